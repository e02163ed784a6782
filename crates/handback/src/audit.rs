//! Decision audit and the timing of new Directions.
//!
//! New Directions apply **from the previous midnight** of their date, even when confirmed late in
//! the day (`004` §7), so a decision taken that day under the old Directions may be invalid. The
//! audit says, for each recorded decision, whether its maker held the power at that moment and
//! flags exactly that trap. The timing helper suggests effective dates that avoid it: after the
//! ten-day representation period (`003` §2.3(b)) and on a day with no formal decision meeting.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::csv;
use crate::diagnostic::Diagnostic;
use crate::directions::{Directions, Power};
use crate::pack::{LoadError, Pack, SourceFile};

/// Who took a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decider {
    /// A Commissioner (or the Commissioners).
    Commissioners,
    /// Councillors: the Cabinet, a cabinet member or a committee.
    Council,
    /// The body a function was transferred to (a trust): neither the Commissioners nor the
    /// councillors may take its decisions.
    Transferee,
}

impl Decider {
    fn parse(s: &str) -> Option<Decider> {
        match s.trim().to_ascii_lowercase().as_str() {
            "commissioner" | "commissioners" => Some(Decider::Commissioners),
            "council" | "cabinet" | "councillor" | "councillors" | "committee" => Some(Decider::Council),
            "trust" | "transferee" => Some(Decider::Transferee),
            _ => None,
        }
    }

    /// Who holds a power.
    pub fn holding(power: Power) -> Decider {
        if power == Power::Transferred {
            Decider::Transferee
        } else if power.is_returned() {
            Decider::Council
        } else {
            Decider::Commissioners
        }
    }
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Decision {
    /// Its line in the log.
    pub line: u32,
    /// When it was taken (local time, as recorded).
    pub at: NaiveDateTime,
    /// The function it falls under.
    pub function: String,
    /// Who took it.
    pub decided_by: Decider,
    /// The log's reference for it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The audit's finding on one decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Finding {
    /// The decision.
    pub decision: Decision,
    /// The power over the function at that moment.
    pub power: Power,
    /// Who held it.
    pub holder: Decider,
    /// Whether the decision-maker held the power.
    pub valid: bool,
    /// Why, in words.
    pub because: String,
}

/// Reads a decision log: CSV with columns `datetime`, `function`, `decided_by` and optionally
/// `reference`. Date-times are `YYYY-MM-DD HH:MM` (or with `T`), local time, no zone.
pub fn load_decisions(pack: &Pack, file: &SourceFile) -> Result<Vec<Decision>, LoadError> {
    let table = csv::parse(&file.label, &file.text).map_err(LoadError::new)?;
    let mut problems: Vec<Diagnostic> = Vec::new();
    let column = |name: &str, problems: &mut Vec<Diagnostic>| match table.column(&file.label, name) {
        Ok(c) => Some(c),
        Err(d) => {
            problems.push(d);
            None
        }
    };
    let (Some(at_col), Some(fn_col), Some(by_col)) = (
        column("datetime", &mut problems),
        column("function", &mut problems),
        column("decided_by", &mut problems),
    ) else {
        return Err(LoadError::new(problems));
    };
    let ref_col = table.header.iter().position(|h| h == "reference");
    let ids: Vec<&str> = pack.functions().iter().map(|f| f.id.as_str()).collect();
    let mut out = Vec::new();
    for row in &table.rows {
        let cell = |c: usize, problems: &mut Vec<Diagnostic>| match row.get(c) {
            Some((v, p)) => Some((v.trim().to_string(), *p)),
            None => {
                problems.push(csv::located(
                    &file.label,
                    crate::json::Pos {
                        line: row.line,
                        column: 1,
                    },
                    &format!(
                        "line {} has {} cells; column `{}` is missing",
                        row.line,
                        row.cells.len(),
                        table.header.get(c).map(String::as_str).unwrap_or("?")
                    ),
                ));
                None
            }
        };
        let at = cell(at_col, &mut problems).and_then(|(v, p)| match parse_datetime(&v) {
            Some(t) => Some(t),
            None => {
                problems.push(csv::located(
                    &file.label,
                    p,
                    &format!("expected a date-time written YYYY-MM-DD HH:MM, found `{v}`"),
                ));
                None
            }
        });
        let function = cell(fn_col, &mut problems).and_then(|(v, p)| {
            if ids.contains(&v.as_str()) {
                Some(v)
            } else {
                let hint = crate::diagnostic::did_you_mean(&v, &ids);
                problems.push(csv::located(
                    &file.label,
                    p,
                    &format!("unknown function `{v}`{hint}"),
                ));
                None
            }
        });
        let decided_by = cell(by_col, &mut problems).and_then(|(v, p)| {
            let d = Decider::parse(&v);
            if d.is_none() {
                problems.push(csv::located(
                    &file.label,
                    p,
                    &format!("`{v}` is not a decision-maker; expected `commissioners` or `council` (or `cabinet`, `committee`)"),
                ));
            }
            d
        });
        let reference = ref_col
            .and_then(|c| row.get(c))
            .map(|(v, _)| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let (Some(at), Some(function), Some(decided_by)) = (at, function, decided_by) {
            out.push(Decision {
                line: row.line,
                at,
                function,
                decided_by,
                reference,
            });
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(LoadError::new(problems))
    }
}

/// The date part is read as every other date is (`YYYY-MM-DD`, years 0000 to 9999), so a log
/// cannot bring in a day at the very ends of chrono's calendar, where there is no day before.
fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let (date, time) = s.split_once([' ', 'T'])?;
    let date = crate::diagnostic::parse_date(date).ok()?;
    let time = ["%H:%M", "%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveTime::parse_from_str(time, f).ok())?;
    Some(date.and_time(time))
}

/// Audits decisions against the Directions.
///
/// ```
/// use handback::audit::{audit, load_decisions};
/// use handback::{Directions, SourceFile};
///
/// let pack = handback::default_pack()?;
/// let file = |name: &str, text: &str| SourceFile { name: name.into(), label: name.into(), text: text.into() };
/// let directions = Directions::load(&pack, &file("d.json", r#"{"council": "Example Council", "instruments": [
///   {"id": "d1", "date": "2015-02-26", "title": "Commissioners take every function", "all": "held",
///    "source": {"document": "Directions 2015", "passage": "para 1"}}]}"#))?;
/// let log = "datetime,function,decided_by\n2016-05-01 10:00,children-services,cabinet\n";
/// let decisions = load_decisions(&pack, &file("decisions.csv", log))?;
/// let findings = audit(&directions, &decisions);
/// // The Cabinet took a decision whose power the Commissioners held that day.
/// assert!(!findings[0].valid);
/// # Ok::<(), handback::LoadError>(())
/// ```
pub fn audit(directions: &Directions, decisions: &[Decision]) -> Vec<Finding> {
    decisions
        .iter()
        .map(|d| {
            let day = d.at.date();
            let holding = directions.holding(&d.function, day);
            let holder = Decider::holding(holding.power);
            let valid = holder == d.decided_by;
            // The instrument that changed this function's power on the decision's own day.
            let changed_today = directions
                .taking_effect(day)
                .find(|i| i.functions.contains_key(&d.function) || i.all.is_some())
                .filter(|_| {
                    // On the first day of the calendar nothing came before, so the instrument
                    // changed the power.
                    day.pred_opt().is_none_or(|previous| {
                        let before = directions.holding(&d.function, previous);
                        Decider::holding(before.power) != holder
                    })
                });
            let because = match (valid, changed_today) {
                (true, None) => format!("{} held the power ({})", who(holder), holding.power.words()),
                (true, Some(i)) => format!(
                    "{} held the power: `{}` took effect that day, from the previous midnight",
                    who(holder),
                    i.id
                ),
                (false, Some(i)) => format!(
                    "invalid: `{}` took effect on {day} from the previous midnight, moving the power to {}; this decision was taken under the previous Directions",
                    i.id,
                    who(holder)
                ),
                (false, None) => match &holding.to {
                    Some(to) => format!("invalid: the function was transferred to {to}"),
                    None => format!("invalid: the power was {} ({})", holding.power.words(), who(holder)),
                },
            };
            Finding { decision: d.clone(), power: holding.power, holder, valid, because }
        })
        .collect()
}

fn who(d: Decider) -> &'static str {
    match d {
        Decider::Commissioners => "the Commissioners",
        Decider::Council => "the council",
        Decider::Transferee => "the body it was transferred to",
    }
}

/// A suggested effective date for new Directions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct EffectiveDate {
    /// The date.
    pub date: NaiveDate,
    /// Why it was chosen, or what was skipped before it.
    pub notes: Vec<String>,
}

/// The last day an effective date may fall on: the last a date written `YYYY-MM-DD` can name,
/// so every suggestion can be read back by the other commands.
const LAST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(9999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// Suggests the first `count` effective dates for new Directions after the Secretary of State is
/// minded to accept a recommendation on `minded`: not before the `representation_days` period has
/// run (the day after it ends at the earliest), and never on a day with a formal decision meeting.
///
/// `meetings` is `None` when no calendar is known: the dates then say that a meeting on the day
/// has to be ruled out by hand, rather than claiming there is none. Fails, saying why, when the
/// period runs past 9999-12-31; suggestions stop there.
pub fn effective_dates(
    minded: NaiveDate,
    representation_days: u32,
    meetings: Option<&[NaiveDate]>,
    count: usize,
) -> Result<Vec<EffectiveDate>, String> {
    let earliest = minded
        .checked_add_days(chrono::Days::new(u64::from(representation_days) + 1))
        .filter(|d| *d <= LAST_DAY)
        .ok_or_else(|| {
            format!(
                "a representation period of `{representation_days}` days from {minded} ends after 9999-12-31, the last date Handback can name"
            )
        })?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut day = Some(earliest);
    // Bounded: at most a year of days is considered, so a calendar full of meetings cannot loop.
    for _ in 0..366 {
        let Some(today) = day.filter(|d| *d <= LAST_DAY) else {
            break;
        };
        if out.len() >= count {
            break;
        }
        if meetings.is_some_and(|m| m.contains(&today)) {
            skipped.push(format!("{today} skipped: a formal decision meeting"));
        } else {
            let mut notes = Vec::new();
            if out.is_empty() {
                notes.push(format!(
                    "the {representation_days}-day representation period from {minded} ends on {}",
                    earliest.pred_opt().unwrap_or(earliest)
                ));
            }
            notes.append(&mut skipped);
            notes.push(match meetings {
                Some(_) => "no formal decision meeting that day, so no decision can fall between the old and new Directions".into(),
                None => "no meeting calendar was given (`--meetings`): check that no formal decision meeting falls on this day".into(),
            });
            out.push(EffectiveDate { date: today, notes });
        }
        day = today.succ_opt();
    }
    Ok(out)
}

/// Reads a meeting calendar: CSV with a `date` column (YYYY-MM-DD) and any others.
pub fn load_meetings(file: &SourceFile) -> Result<Vec<NaiveDate>, LoadError> {
    let table = csv::parse(&file.label, &file.text).map_err(LoadError::new)?;
    let col = table
        .column(&file.label, "date")
        .map_err(|d| LoadError::new(vec![d]))?;
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for row in &table.rows {
        match row.get(col) {
            Some((v, p)) => match crate::diagnostic::parse_date(v.trim()) {
                Ok(d) => out.push(d),
                Err(why) => problems.push(csv::located(&file.label, *p, &why)),
            },
            None => problems.push(csv::located(
                &file.label,
                crate::json::Pos {
                    line: row.line,
                    column: 1,
                },
                "this line has no `date` cell",
            )),
        }
    }
    if problems.is_empty() {
        out.sort_unstable();
        out.dedup();
        Ok(out)
    } else {
        Err(LoadError::new(problems))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    #[test]
    fn effective_dates_at_the_ends_of_the_calendar_do_not_overflow() {
        for minded in [NaiveDate::MIN, NaiveDate::MAX, LAST_DAY] {
            for days in [0, 10, u32::MAX] {
                if let Ok(dates) = effective_dates(minded, days, Some(&[]), 1000) {
                    assert!(dates.iter().all(|d| d.date <= LAST_DAY));
                }
            }
        }
        let err = effective_dates(LAST_DAY, 0, None, 1).unwrap_err();
        assert!(err.contains("9999-12-31"), "{err}");
        let last = effective_dates(NaiveDate::from_ymd_opt(9999, 12, 20).unwrap(), 10, None, 5).unwrap();
        assert_eq!(last.len(), 1, "only 9999-12-31 is left");
    }

    #[test]
    fn a_decision_on_the_first_day_of_the_calendar_is_audited() {
        let pack = crate::default_pack().unwrap();
        let file = SourceFile {
            name: "directions.json".into(),
            label: "directions.json".into(),
            text: include_str!("../../../fixtures/rotherham/directions.json").into(),
        };
        let mut directions = Directions::load(&pack, &file).unwrap();
        // Instruments on the very first and last days chrono knows, where there is no day
        // before or after to compare with.
        let mut first = directions.instruments[0].clone();
        first.date = NaiveDate::MIN;
        let mut last = directions.instruments[0].clone();
        last.date = NaiveDate::MAX;
        directions.instruments.insert(0, first);
        directions.instruments.push(last);
        for at in [NaiveDateTime::MIN, NaiveDateTime::MAX] {
            let decision = Decision {
                line: 2,
                at,
                function: "licensing".into(),
                decided_by: Decider::Council,
                reference: None,
            };
            assert_eq!(audit(&directions, &[decision]).len(), 1);
        }
    }
}
