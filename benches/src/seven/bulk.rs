//! Handback's bulk mode over the benchmark pack `benches/packs/seven-tests/`, outcomes only:
//! each evidence set indexed once (`handback::bulk::Indexed`, like the other engines' inputs,
//! prepared outside the timing) and assessed into buffers kept warm between calls
//! (`handback::bulk::Outcomes`).
//!
//! [`Generated`] is the same bulk mode with the pack's rules written out as Rust at build time
//! (`handback::bulk::generate_rust`, by `benches/build.rs`) and compiled into the benchmark,
//! over the same indexed evidence and buffers.
//!
//! The evidence is built in code with `EvidenceBuilder` (so it passes the loader's checks): one
//! observation per known key, dated on the as-of date, so freshness (`max_age_days`) never
//! interferes; judgement keys name who judged.

use super::{Fact, Facts, Outcomes, Seven, TESTS};
use chrono::NaiveDate;
use handback::bulk::{Indexed, Outcome, Outcomes as Buffers};
use handback::{Evidence, EvidenceBuilder, ObservationDraft, Options, Pack, SourceFile, Truth};
use std::cell::RefCell;

/// The benchmark pack's files, read at compile time.
const PACK: &[(&str, &str)] = &[
    ("pack.json", include_str!("../../packs/seven-tests/pack.json")),
    (
        "vocabulary.json",
        include_str!("../../packs/seven-tests/vocabulary.json"),
    ),
    (
        "parameters.json",
        include_str!("../../packs/seven-tests/parameters.json"),
    ),
    (
        "functions.json",
        include_str!("../../packs/seven-tests/functions.json"),
    ),
    (
        "rules/children.json",
        include_str!("../../packs/seven-tests/rules/children.json"),
    ),
];

/// The files of the benchmark pack, as `Pack::load` takes them.
pub fn pack_files() -> Vec<SourceFile> {
    PACK.iter()
        .map(|(name, text)| SourceFile {
            name: (*name).to_string(),
            label: format!("benches/packs/seven-tests/{name}"),
            text: (*text).to_string(),
        })
        .collect()
}

/// The as-of date of every evidence set (the Lead Commissioner's letter of 11 August 2016).
pub fn as_of() -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(2016, 8, 11).ok_or_else(|| "2016-08-11 is not a date".to_string())
}

/// The benchmark pack, loaded once, with the options and where each test's outcome is.
pub struct Bulk {
    /// Leaked once per process, so indexed evidence can borrow it for as long as it lives.
    pack: &'static Pack,
    /// The outcome buffers, reused by every call.
    buffers: RefCell<Buffers>,
    options: Options,
    as_of: NaiveDate,
    /// The index of `children-1` … `children-7` in `pack.rules()`.
    rows: [usize; 7],
}

impl Bulk {
    /// Loads the pack and finds the seven tests in it.
    pub fn new() -> Result<Bulk, String> {
        let pack = Pack::load(&pack_files()).map_err(|e| format!("the benchmark pack does not load: {e}"))?;
        let mut rows = [0; 7];
        for (row, id) in rows.iter_mut().zip(TESTS) {
            *row = pack
                .rules()
                .iter()
                .position(|r| r.id == id)
                .ok_or_else(|| format!("the benchmark pack has no rule {id}"))?;
        }
        let as_of = as_of()?;
        let mut options = Options::new(as_of);
        options.explain = false;
        Ok(Bulk {
            pack: Box::leak(Box::new(pack)),
            buffers: RefCell::new(Buffers::new()),
            options,
            as_of,
            rows,
        })
    }

    /// The pack's keys, sorted.
    pub fn keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.pack.keys().iter().map(|k| k.key.as_str()).collect();
        keys.sort_unstable();
        keys
    }

    /// The pack itself.
    pub fn pack(&self) -> &Pack {
        self.pack
    }
}

impl Seven for Bulk {
    type Input = Indexed<'static>;

    fn name(&self) -> &'static str {
        "handback"
    }

    fn prepare(&self, facts: &Facts) -> Result<Indexed<'static>, String> {
        let mut builder = EvidenceBuilder::new("Benchmark Council").as_of(self.as_of);
        for (i, (key, value)) in facts.entries().into_iter().enumerate() {
            let value = match value {
                None => continue,
                Some(Fact::Flag(b)) => serde_json::Value::from(b),
                Some(Fact::Amount(x)) => serde_json::Value::from(x),
            };
            let mut draft =
                ObservationDraft::new(format!("o{i}"), key, value, self.as_of, "benchmark", "generated");
            if self.pack.key(key).is_some_and(|k| k.judgement) {
                draft = draft.judged_by("Commissioners");
            }
            builder = builder.observe(draft);
        }
        let evidence: Evidence = builder.build(self.pack).map_err(|e| e.to_string())?;
        Ok(Indexed::owning(self.pack, evidence))
    }

    #[inline]
    fn outcomes(&self, evidence: &Indexed<'static>) -> Result<Outcomes, String> {
        let mut all = self.buffers.borrow_mut();
        evidence.outcomes_into(&self.options, &mut all);
        let mut outcomes = [Truth::Unknown; 7];
        for (outcome, row) in outcomes.iter_mut().zip(self.rows) {
            *outcome = match all.get(row, 0) {
                Some(Outcome::Test(t)) => t,
                other => return Err(format!("rule {row} gave {other:?}, not a test's outcome")),
            };
        }
        Ok(outcomes)
    }
}

/// The benchmark pack's rules as `benches/build.rs` wrote them out.
mod written {
    include!(concat!(env!("OUT_DIR"), "/seven_tests.rs"));
}

/// Handback's bulk mode by the benchmark pack's rules written out as Rust: `Bulk`'s pack,
/// evidence and buffers, assessed through `Indexed::outcomes_generated`.
pub struct Generated {
    bulk: Bulk,
}

impl Generated {
    /// Loads the pack and checks that the code was written from it (else the interpreter would
    /// answer, and the benchmark would time it under this name).
    pub fn new() -> Result<Generated, String> {
        let bulk = Bulk::new()?;
        if !written::GENERATED.fits(bulk.pack) {
            return Err("the generated code was not written from this pack by this handback".to_string());
        }
        Ok(Generated { bulk })
    }
}

impl Seven for Generated {
    type Input = Indexed<'static>;

    fn name(&self) -> &'static str {
        "handback, generated"
    }

    fn prepare(&self, facts: &Facts) -> Result<Indexed<'static>, String> {
        self.bulk.prepare(facts)
    }

    #[inline]
    fn outcomes(&self, evidence: &Indexed<'static>) -> Result<Outcomes, String> {
        let mut all = self.bulk.buffers.borrow_mut();
        evidence.outcomes_generated(&self.bulk.options, &mut all, &written::GENERATED);
        let mut outcomes = [Truth::Unknown; 7];
        for (outcome, row) in outcomes.iter_mut().zip(self.bulk.rows) {
            *outcome = match all.get(row, 0) {
                Some(Outcome::Test(t)) => t,
                other => return Err(format!("rule {row} gave {other:?}, not a test's outcome")),
            };
        }
        Ok(outcomes)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use crate::seven::floor;

    /// The floor's constants are the pack's parameter defaults.
    #[test]
    fn the_floor_uses_the_packs_thresholds() {
        let bulk = Bulk::new().unwrap();
        let default = |name: &str| match bulk
            .pack()
            .parameters()
            .iter()
            .find(|p| p.name == name)
            .map(|p| &p.default)
        {
            Some(handback::Value::Number(x)) => *x,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(
            default("children_overspend_max_gbp_m"),
            floor::CHILDREN_OVERSPEND_MAX_GBP_M
        );
        assert_eq!(
            default("children_agency_share_max"),
            floor::CHILDREN_AGENCY_SHARE_MAX
        );
    }

    /// Every leaf of the seven rules is a latest-value comparison: the pack has exactly these
    /// seven rules, all of them tests, none per function.
    #[test]
    fn the_pack_is_the_seven_tests() {
        let bulk = Bulk::new().unwrap();
        let ids: Vec<&str> = bulk.pack().rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, TESTS);
        assert!(bulk.pack().rules().iter().all(|r| !r.per_function));
    }

    /// The pack loads (above) and draws no warning: every key and parameter is read, every
    /// rule reaches someone (what `handback lint --pack benches/packs/seven-tests` reports).
    #[test]
    fn the_pack_draws_no_warnings() {
        let bulk = Bulk::new().unwrap();
        let warnings = handback::authoring::pack_warnings(bulk.pack(), &pack_files());
        assert!(warnings.is_empty(), "{warnings:#?}");
    }

    /// The benchmark pack is the Rotherham pack's seven tests with one change: `children-7`
    /// reads `children.delivery_on_target` as its latest value, without `sustained_days`. Its
    /// keys and parameters are the Rotherham pack's, word for word.
    #[test]
    fn the_pack_differs_from_rotherham_only_by_the_window() {
        fn read(path: &str) -> serde_json::Value {
            let path = format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"));
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
        }
        fn drop_windows(v: &mut serde_json::Value) -> usize {
            match v {
                serde_json::Value::Object(m) => {
                    usize::from(m.remove("sustained_days").is_some())
                        + m.values_mut().map(drop_windows).sum::<usize>()
                }
                serde_json::Value::Array(a) => a.iter_mut().map(drop_windows).sum(),
                _ => 0,
            }
        }
        let mut rotherham = read("rules/rotherham/rules/children.json")["rules"]
            .as_array()
            .unwrap()
            .clone();
        rotherham.retain(|r| TESTS.contains(&r["id"].as_str().unwrap()));
        let mut rotherham = serde_json::Value::Array(rotherham);
        assert_eq!(drop_windows(&mut rotherham), 1);
        let ours = read("benches/packs/seven-tests/rules/children.json");
        assert_eq!(ours["rules"], rotherham);

        let keys = read("rules/rotherham/vocabulary.json");
        for key in read("benches/packs/seven-tests/vocabulary.json")["keys"]
            .as_array()
            .unwrap()
        {
            assert!(
                keys["keys"].as_array().unwrap().contains(key),
                "{key} differs from the Rotherham pack's"
            );
        }
        assert_eq!(
            read("benches/packs/seven-tests/parameters.json"),
            read("rules/rotherham/parameters.json")
        );
    }
}
