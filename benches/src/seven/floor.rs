//! The floor: the seven tests as a plain hand-written function over [`Facts`].
//!
//! Kleene's three values with [`Truth`]'s order (not met < unknown < met): `all` is the least
//! of its parts and `any` the greatest; an unknown key makes its comparison unknown.

use super::{Facts, Outcomes, Seven};
use handback::Truth;

/// `children_overspend_max_gbp_m`, the pack's default (`parameters.json`).
pub const CHILDREN_OVERSPEND_MAX_GBP_M: f64 = 0.0;

/// `children_agency_share_max`, the pack's default (`parameters.json`).
pub const CHILDREN_AGENCY_SHARE_MAX: f64 = 0.25;

/// `== true`.
#[inline(always)]
fn yes(value: Option<bool>) -> Truth {
    match value {
        Some(true) => Truth::Met,
        Some(false) => Truth::NotMet,
        None => Truth::Unknown,
    }
}

/// `<= max`.
#[inline(always)]
fn at_most(value: Option<f64>, max: f64) -> Truth {
    match value {
        Some(v) if v <= max => Truth::Met,
        Some(_) => Truth::NotMet,
        None => Truth::Unknown,
    }
}

/// `> min`.
#[inline(always)]
fn above(value: Option<f64>, min: f64) -> Truth {
    match value {
        Some(v) if v > min => Truth::Met,
        Some(_) => Truth::NotMet,
        None => Truth::Unknown,
    }
}

/// The seven outcomes, `children-1` first.
pub fn seven(f: &Facts) -> Outcomes {
    [
        // children-1: corporate services prioritise children's social care.
        yes(f.corporate_budget_prioritises_children)
            .max(above(f.children_extra_base_budget_gbp_m, 0.0))
            .min(yes(f.corporate_engaged_with_children))
            .min(yes(f.corporate_finance_support_effective))
            .min(yes(f.corporate_hr_support_effective))
            .min(yes(f.corporate_legal_support_effective))
            .min(yes(f.corporate_infrastructure_support_effective)),
        // children-2: stable and capable leadership.
        yes(f.corporate_permanent_smt_appointed)
            .min(yes(f.children_permanent_leadership_to_heads_of_service))
            .min(yes(f.children_reliance_on_temporary_managers_reduced))
            .min(yes(f.cabinet_continuity_after_elections))
            .min(yes(f.cabinet_portfolio_holders_managing)),
        // children-3: continued improvement in practice.
        yes(f.children_improvement_plan_progress)
            .min(yes(f.children_recommendations_dealt_with))
            .min(yes(f.children_transformation_embedded)),
        // children-4: strong and supportive partnerships.
        yes(f.children_partnership_governance_rigorous)
            .min(yes(f.children_partnership_delivering))
            .min(yes(f.children_partnership_outcomes_improved)),
        // children-5: robust financial management.
        at_most(f.children_overspend_gbp_m, CHILDREN_OVERSPEND_MAX_GBP_M)
            .min(yes(f.children_mtfs_adopted))
            .min(yes(f.children_senior_finance_capacity)),
        // children-6: a compelling strategy for the workforce.
        yes(f.children_workforce_strategy_adopted)
            .min(at_most(f.children_agency_share, CHILDREN_AGENCY_SHARE_MAX))
            .min(yes(f.children_professional_development_in_place)),
        // children-7: effective performance information and quality assurance.
        yes(f.children_performance_info_measures_outcomes)
            .min(yes(f.children_delivery_on_target))
            .min(yes(f.children_improvement_milestones_on_course))
            .min(yes(f.children_budget_agreed)),
    ]
}

/// The hand-written function as an implementation: its input is the evidence set itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct Floor;

impl Seven for Floor {
    type Input = Facts;

    fn name(&self) -> &'static str {
        "hand-written"
    }

    fn prepare(&self, facts: &Facts) -> Result<Facts, String> {
        Ok(*facts)
    }

    #[inline]
    fn outcomes(&self, input: &Facts) -> Result<Outcomes, String> {
        Ok(seven(input))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kleene() {
        let mut f = Facts::default();
        assert_eq!(seven(&f), [Truth::Unknown; 7]);
        // One part of `all` not met settles it, whatever else is unknown.
        f.children_budget_agreed = Some(false);
        assert_eq!(seven(&f)[6], Truth::NotMet);
        // One part of `any` met settles the `any`, not the `all` around it.
        f.children_extra_base_budget_gbp_m = Some(0.5);
        assert_eq!(seven(&f)[0], Truth::Unknown);
        // Thresholds are inclusive where the rule says `<=`.
        f.children_workforce_strategy_adopted = Some(true);
        f.children_professional_development_in_place = Some(true);
        f.children_agency_share = Some(0.25);
        assert_eq!(seven(&f)[5], Truth::Met);
    }
}
