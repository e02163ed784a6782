//! The seven readiness tests for children's social care, in four implementations.
//!
//! The tests are the Rotherham pack's `children-1` … `children-7` as the benchmark pack
//! `benches/packs/seven-tests/` holds them: 28 latest-value comparisons over 28 keys (25 flags,
//! three amounts), combined with `all` and one `any`. Each implementation takes one evidence set
//! ([`Facts`]: every key's latest value, or nothing) in its own native form, prepared once, and
//! gives the seven outcomes in Kleene's three values (met / not met / unknown):
//!
//! - [`floor`]: a plain hand-written Rust function over a struct, the floor;
//! - [`bulk`]: Handback's bulk mode, `handback::bulk::outcomes` (outcomes only, no reasons);
//! - [`zen`]: zen-engine (GoRules JDM), a decision graph with one expression node;
//! - [`cedar`]: cedar-policy, fourteen permit policies (when each test is met, when it is not)
//!   and one authorisation request whose satisfied policies give all seven outcomes.
//!
//! [`agreement`] checks that all four give the same outcomes on the same evidence sets; the
//! benchmark `benches/benches/seven_tests.rs` runs it first, then times all four.

pub mod bulk;
pub mod cedar;
pub mod floor;
pub mod zen;

use handback::Truth;

/// The seven tests, in order: every implementation returns its outcomes in this order.
pub const TESTS: [&str; 7] = [
    "children-1",
    "children-2",
    "children-3",
    "children-4",
    "children-5",
    "children-6",
    "children-7",
];

/// The seven outcomes of one evidence set.
pub type Outcomes = [Truth; 7];

/// A key's latest value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fact {
    /// A boolean key's value.
    Flag(bool),
    /// A number key's value: a whole number of hundredths (see [`Facts`]), so that every
    /// implementation reads exactly the same number (Cedar's `decimal`, zen's decimals and
    /// Handback's and the floor's `f64` agree on every value generated).
    Amount(f64),
}

impl From<bool> for Fact {
    fn from(value: bool) -> Fact {
        Fact::Flag(value)
    }
}

impl From<f64> for Fact {
    fn from(value: f64) -> Fact {
        Fact::Amount(value)
    }
}

/// A value the generator can draw for a key.
trait Draw: Sized {
    fn draw(rng: &mut Rng, key: &str) -> Self;
}

impl Draw for bool {
    /// Mostly true (seven in eight), so that tests with five or six parts are met often enough.
    fn draw(rng: &mut Rng, _key: &str) -> bool {
        rng.below(8) != 0
    }
}

impl Draw for f64 {
    /// Around the key's threshold, and one time in eight exactly on it.
    fn draw(rng: &mut Rng, key: &str) -> f64 {
        // (lowest, highest, threshold, denominator): value = k / denominator.
        let (low, high, threshold, denominator): (i64, i64, i64, f64) = match key {
            "children.agency_share" => (0, 50, 25, 100.0),
            "children.overspend_gbp_m" => (-30, 30, 0, 10.0),
            _ => (-10, 40, 0, 10.0), // children.extra_base_budget_gbp_m
        };
        let k = if rng.below(8) == 0 {
            threshold
        } else {
            low + i64::try_from(rng.below((high - low + 1).unsigned_abs())).unwrap_or(0)
        };
        // Exact: k and the denominator are small whole numbers, so this is the double nearest
        // to k / denominator, the same number the decimal k / denominator reads back as.
        k as f64 / denominator
    }
}

/// Declares [`Facts`] from one list, so its fields, its keys and its generator cannot drift.
macro_rules! facts {
    ($( $field:ident : $ty:ty = $key:literal ),* $(,)?) => {
        /// One evidence set: the latest value of every key the seven tests read, `None` where
        /// the key is unknown (no observation).
        #[derive(Debug, Clone, Copy, PartialEq, Default)]
        pub struct Facts {
            $(
                #[doc = concat!("`", $key, "`")]
                pub $field: Option<$ty>,
            )*
        }

        /// The keys the seven tests read, in the order of [`Facts::entries`].
        pub const KEYS: &[&str] = &[$($key),*];

        impl Facts {
            /// Every key with its value, in the order of [`KEYS`].
            pub fn entries(&self) -> Vec<(&'static str, Option<Fact>)> {
                vec![$(($key, self.$field.map(Fact::from))),*]
            }

            /// An evidence set drawn from `rng`, each key unknown with probability
            /// `missing_per_mille` / 1000.
            fn draw(rng: &mut Rng, missing_per_mille: u64) -> Facts {
                Facts {
                    $(
                        $field: {
                            let value = <$ty as Draw>::draw(rng, $key);
                            (rng.below(1000) >= missing_per_mille).then_some(value)
                        },
                    )*
                }
            }
        }
    };
}

facts! {
    corporate_budget_prioritises_children: bool = "corporate.budget_prioritises_children",
    children_extra_base_budget_gbp_m: f64 = "children.extra_base_budget_gbp_m",
    corporate_engaged_with_children: bool = "corporate.engaged_with_children",
    corporate_finance_support_effective: bool = "corporate.finance_support_effective",
    corporate_hr_support_effective: bool = "corporate.hr_support_effective",
    corporate_legal_support_effective: bool = "corporate.legal_support_effective",
    corporate_infrastructure_support_effective: bool = "corporate.infrastructure_support_effective",
    corporate_permanent_smt_appointed: bool = "corporate.permanent_smt_appointed",
    children_permanent_leadership_to_heads_of_service: bool =
        "children.permanent_leadership_to_heads_of_service",
    children_reliance_on_temporary_managers_reduced: bool =
        "children.reliance_on_temporary_managers_reduced",
    cabinet_continuity_after_elections: bool = "cabinet.continuity_after_elections",
    cabinet_portfolio_holders_managing: bool = "cabinet.portfolio_holders_managing",
    children_improvement_plan_progress: bool = "children.improvement_plan_progress",
    children_recommendations_dealt_with: bool = "children.recommendations_dealt_with",
    children_transformation_embedded: bool = "children.transformation_embedded",
    children_partnership_governance_rigorous: bool = "children.partnership_governance_rigorous",
    children_partnership_delivering: bool = "children.partnership_delivering",
    children_partnership_outcomes_improved: bool = "children.partnership_outcomes_improved",
    children_overspend_gbp_m: f64 = "children.overspend_gbp_m",
    children_mtfs_adopted: bool = "children.mtfs_adopted",
    children_senior_finance_capacity: bool = "children.senior_finance_capacity",
    children_workforce_strategy_adopted: bool = "children.workforce_strategy_adopted",
    children_agency_share: f64 = "children.agency_share",
    children_professional_development_in_place: bool = "children.professional_development_in_place",
    children_performance_info_measures_outcomes: bool =
        "children.performance_info_measures_outcomes",
    children_delivery_on_target: bool = "children.delivery_on_target",
    children_improvement_milestones_on_course: bool = "children.improvement_milestones_on_course",
    children_budget_agreed: bool = "children.budget_agreed",
}

/// A tiny deterministic generator (SplitMix64): the same seed gives the same evidence sets on
/// every machine, with no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` above 0; the bias of the modulo is negligible for small `n`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// The seed of the evidence sets the agreement check and the benchmark use.
pub const SEED: u64 = 0x5e7e_2016_0811;

/// `n` evidence sets from `seed`. A third have every key known, a third about one key in twenty
/// unknown, a third about one in five, so every test is met, not met and unknown on some sets.
pub fn evidence_sets(seed: u64, n: usize) -> Vec<Facts> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let missing_per_mille = match i % 3 {
                0 => 0,
                1 => 50,
                _ => 200,
            };
            Facts::draw(&mut rng, missing_per_mille)
        })
        .collect()
}

/// One implementation of the seven tests: its input prepared once per evidence set, outside any
/// timed loop, and the seven outcomes from it.
pub trait Seven {
    /// The evidence set in this implementation's own form.
    type Input;

    /// The name the benchmark reports.
    fn name(&self) -> &'static str;

    /// The evidence set in this implementation's form.
    fn prepare(&self, facts: &Facts) -> Result<Self::Input, String>;

    /// The seven outcomes: what the benchmark times.
    fn outcomes(&self, input: &Self::Input) -> Result<Outcomes, String>;
}

/// The four implementations, each set up once (packs, graphs, policies and schemas parsed and
/// compiled).
pub struct Four {
    /// The hand-written function.
    pub floor: floor::Floor,
    /// Handback's bulk mode over the benchmark pack.
    pub handback: bulk::Bulk,
    /// The same, with the pack's rules written out as Rust and compiled in.
    pub generated: bulk::Generated,
    /// zen-engine's decision, compiled.
    pub zen: zen::Zen,
    /// Cedar's policies, validated against their schema.
    pub cedar: cedar::Cedar,
}

impl Four {
    /// Sets up all four.
    pub fn new() -> Result<Four, String> {
        Ok(Four {
            floor: floor::Floor,
            handback: bulk::Bulk::new()?,
            generated: bulk::Generated::new()?,
            zen: zen::Zen::new()?,
            cedar: cedar::Cedar::new()?,
        })
    }
}

/// The evidence sets in all four implementations' forms, in the same order.
pub struct Prepared {
    /// The evidence sets themselves.
    pub facts: Vec<Facts>,
    /// For the hand-written function.
    pub floor: Vec<<floor::Floor as Seven>::Input>,
    /// For Handback.
    pub handback: Vec<<bulk::Bulk as Seven>::Input>,
    /// For Handback's generated code (indexed apart: an index keeps the values in force).
    pub generated: Vec<<bulk::Generated as Seven>::Input>,
    /// For zen-engine.
    pub zen: Vec<<zen::Zen as Seven>::Input>,
    /// For Cedar.
    pub cedar: Vec<<cedar::Cedar as Seven>::Input>,
}

fn prepare_all<S: Seven>(s: &S, facts: &[Facts]) -> Result<Vec<S::Input>, String> {
    facts
        .iter()
        .enumerate()
        .map(|(i, f)| {
            s.prepare(f)
                .map_err(|e| format!("{}: preparing evidence set {i}: {e}", s.name()))
        })
        .collect()
}

impl Prepared {
    /// Prepares every evidence set for every implementation.
    pub fn new(four: &Four, facts: Vec<Facts>) -> Result<Prepared, String> {
        Ok(Prepared {
            floor: prepare_all(&four.floor, &facts)?,
            handback: prepare_all(&four.handback, &facts)?,
            generated: prepare_all(&four.generated, &facts)?,
            zen: prepare_all(&four.zen, &facts)?,
            cedar: prepare_all(&four.cedar, &facts)?,
            facts,
        })
    }
}

/// What an agreement check found, when all four agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// How many evidence sets were checked.
    pub sets: usize,
    /// How many sets had every key known.
    pub fully_known: usize,
    /// For each test, how many sets it was not met, unknown and met on.
    pub counts: [[usize; 3]; 7],
}

impl std::fmt::Display for Agreement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "all four implementations agree on {} evidence sets ({} with every key known):",
            self.sets, self.fully_known
        )?;
        for (test, [not_met, unknown, met]) in TESTS.iter().zip(self.counts) {
            writeln!(f, "  {test}: met {met}, not met {not_met}, unknown {unknown}")?;
        }
        Ok(())
    }
}

fn words(outcomes: &Outcomes) -> String {
    outcomes.iter().map(|t| t.words()).collect::<Vec<_>>().join(", ")
}

/// Checks that all four implementations give the same seven outcomes on every prepared evidence
/// set (each evaluated twice, so an implementation that kept state between calls would show),
/// and that every test is met, not met and unknown on at least one set (so the agreement is
/// not vacuous). A disagreement is reported with the evidence set and every implementation's
/// outcomes.
pub fn agreement(four: &Four, prepared: &Prepared) -> Result<Agreement, String> {
    let mut counts = [[0usize; 3]; 7];
    for (i, facts) in prepared.facts.iter().enumerate() {
        let at = |what: &str| format!("evidence set {i} has no {what} input");
        let expected = four
            .floor
            .outcomes(prepared.floor.get(i).ok_or_else(|| at("floor"))?)?;
        let mut answers = vec![(four.floor.name(), "", expected)];
        for call in ["", " (called again)"] {
            let h = prepared.handback.get(i).ok_or_else(|| at("Handback"))?;
            answers.push((four.handback.name(), call, four.handback.outcomes(h)?));
            let g = prepared
                .generated
                .get(i)
                .ok_or_else(|| at("generated Handback"))?;
            answers.push((four.generated.name(), call, four.generated.outcomes(g)?));
            let z = prepared.zen.get(i).ok_or_else(|| at("zen"))?;
            answers.push((four.zen.name(), call, four.zen.outcomes(z)?));
            let c = prepared.cedar.get(i).ok_or_else(|| at("Cedar"))?;
            answers.push((four.cedar.name(), call, four.cedar.outcomes(c)?));
        }
        if answers.iter().any(|(_, _, o)| *o != expected) {
            let mut message = format!("the implementations disagree on evidence set {i}:\n");
            for (name, call, o) in &answers {
                message.push_str(&format!("  {name}{call}: {}\n", words(o)));
            }
            message.push_str("  the evidence:\n");
            for (key, value) in facts.entries() {
                message.push_str(&format!("    {key} = {value:?}\n"));
            }
            return Err(message);
        }
        for ([not_met, unknown, met], t) in counts.iter_mut().zip(expected) {
            *match t {
                Truth::NotMet => not_met,
                Truth::Unknown => unknown,
                Truth::Met => met,
            } += 1;
        }
    }
    for (test, [not_met, unknown, met]) in TESTS.iter().zip(counts) {
        if [not_met, unknown, met].contains(&0) {
            return Err(format!(
                "the evidence sets do not exercise {test}: not met {not_met}, unknown {unknown}, \
                 met {met} times"
            ));
        }
    }
    Ok(Agreement {
        sets: prepared.facts.len(),
        fully_known: prepared
            .facts
            .iter()
            .filter(|f| f.entries().iter().all(|(_, v)| v.is_some()))
            .count(),
        counts,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    /// The benchmark's first step, as a test: a few hundred evidence sets, all four agree.
    #[test]
    fn all_four_implementations_agree() {
        let four = Four::new().unwrap();
        let prepared = Prepared::new(&four, evidence_sets(SEED, 600)).unwrap();
        let agreement = agreement(&four, &prepared).unwrap_or_else(|e| panic!("{e}"));
        println!("{agreement}");
        assert_eq!(agreement.sets, 600);
        assert!(agreement.fully_known >= 200, "{agreement}");
    }

    #[test]
    fn the_keys_are_the_benchmark_packs_keys() {
        let pack = bulk::Bulk::new().unwrap();
        let mut ours: Vec<&str> = KEYS.to_vec();
        ours.sort_unstable();
        assert_eq!(ours, pack.keys());
    }

    #[test]
    fn the_generator_is_deterministic() {
        assert_eq!(evidence_sets(SEED, 50), evidence_sets(SEED, 50));
        assert_ne!(evidence_sets(SEED, 50), evidence_sets(SEED + 1, 50));
    }

    /// A disagreement is found and shown, not hidden: the floor given other sets' inputs.
    #[test]
    fn a_disagreement_is_reported() {
        let four = Four::new().unwrap();
        let mut prepared = Prepared::new(&four, evidence_sets(SEED, 60)).unwrap();
        prepared.floor.reverse();
        let message = agreement(&four, &prepared).unwrap_err();
        assert!(message.contains("disagree on evidence set"), "{message}");
        assert!(message.contains("children.agency_share = "), "{message}");
    }
}
