//! The written-out rules give the interpreter's outcomes, and the reference evaluator's: over
//! every evidence file the repository ships for each pack, and over generated evidence (random
//! values, dates, functions, and keys left out) at many as-of dates, with the values in force
//! kept (the generated code runs) and not (the interpreter answers), with a parameter
//! overridden, and with another pack's code (which must not run).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use chrono::{Duration, NaiveDate};
use handback::bulk::generated::Generated;
use handback::bulk::{Indexed, Outcomes};
use handback::model::{Scope, ValueType};
use handback::{Evidence, EvidenceBuilder, ObservationDraft, Options, Pack, SourceFile};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

// The library's own test helpers (reading packs from the repository), shared rather than copied.
#[path = "../../handback/tests/common/mod.rs"]
mod common;
use common::root;

/// A pack as `build.rs` loads it.
fn load(dir: Option<&str>) -> Pack {
    match dir {
        None => handback::default_pack().unwrap(),
        Some(dir) => common::load_pack(dir),
    }
}

/// Each pack with its written-out rules and the evidence files shipped for it.
fn packs() -> Vec<(&'static str, Pack, &'static Generated, Vec<&'static str>)> {
    vec![
        (
            "embedded",
            load(None),
            &handback_generated::embedded::GENERATED,
            vec!["fixtures/rotherham"],
        ),
        (
            "semantics",
            load(Some("fixtures/packs/semantics")),
            &handback_generated::semantics::GENERATED,
            vec!["fixtures/evidence"],
        ),
        (
            "northmoor",
            load(Some("fixtures/packs/northmoor-children")),
            &handback_generated::northmoor::GENERATED,
            vec!["fixtures/packs/northmoor-children/tests"],
        ),
        (
            "seven_tests",
            load(Some("benches/packs/seven-tests")),
            &handback_generated::seven_tests::GENERATED,
            vec![],
        ),
    ]
}

/// The outcomes the written-out rules give for `evidence` on `options`' day, asked three times
/// (the first interprets and the second keeps the values in force, which the third reads too),
/// each checked against the interpreter's; and the reference evaluator's, when no parameter is
/// overridden.
fn check(pack: &Pack, generated: &Generated, evidence: &Evidence, options: &Options) -> Result<(), String> {
    let indexed = Indexed::new(pack, evidence);
    let mut interpreted = Outcomes::new();
    indexed.outcomes_into(options, &mut interpreted);
    let interpreted = interpreted.to_vecs();
    if options.parameters.is_empty() {
        let reference = handback::oracle::outcomes(pack, evidence, options.as_of);
        if reference != interpreted {
            return Err(format!(
                "the interpreter and the reference differ:\n{interpreted:?}\n{reference:?}"
            ));
        }
    }
    let fresh = Indexed::new(pack, evidence);
    let mut out = Outcomes::new();
    for call in 0..3 {
        fresh.outcomes_generated(options, &mut out, generated);
        if out.to_vecs() != interpreted {
            return Err(format!(
                "call {call} on {}: written out\n{:?}\ninterpreted\n{interpreted:?}",
                options.as_of,
                out.to_vecs()
            ));
        }
    }
    Ok(())
}

/// Every file under `dirs` that loads as evidence for `pack`.
fn shipped_evidence(pack: &Pack, dirs: &[&str]) -> Vec<(String, Evidence)> {
    let mut found = Vec::new();
    for dir in dirs {
        let mut names: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        names.sort();
        for path in names {
            let file = SourceFile {
                name: path.display().to_string(),
                label: path.display().to_string(),
                text: std::fs::read_to_string(&path).unwrap(),
            };
            if let Ok(evidence) = Evidence::load(pack, &file) {
                found.push((path.display().to_string(), evidence));
            }
        }
    }
    found
}

/// The code was written from each pack, and from no other: another pack's code does not run
/// (the interpreter answers, with the same outcomes).
#[test]
fn each_packs_code_fits_that_pack_alone() {
    let packs = packs();
    for (name, pack, generated, _) in &packs {
        for (other, _, other_generated, _) in &packs {
            assert_eq!(
                other_generated.fits(pack),
                name == other,
                "{other}'s code over {name}"
            );
            let _ = generated;
        }
    }
    let (_, semantics, _, dirs) = &packs[1];
    let rotherham_code = packs[0].2;
    for (file, evidence) in shipped_evidence(semantics, dirs) {
        let options = Options::new(
            evidence
                .as_of()
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()),
        );
        check(semantics, rotherham_code, &evidence, &options).unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}

/// The interpreter's outcomes for `evidence` on `options`' day, from a fresh index and buffer.
fn fresh(pack: &Pack, evidence: &Evidence, options: &Options) -> Vec<Vec<handback::bulk::Outcome>> {
    let mut out = Outcomes::new();
    Indexed::new(pack, evidence).outcomes_into(options, &mut out);
    out.to_vecs()
}

/// One index asked about several days in turn (the values in force are kept for one of them:
/// the others must not read them), and one buffer kept across packs, days, what-if answers and
/// interpreted assessments: every answer is a fresh interpreter's.
#[test]
fn one_index_and_one_buffer_across_days_packs_and_what_ifs() {
    let mut out = Outcomes::new();
    let mut asked = 0;
    for (name, pack, generated, dirs) in packs() {
        for (file, evidence) in shipped_evidence(&pack, &dirs).into_iter().take(3) {
            let day = evidence
                .as_of()
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(2017, 6, 1).unwrap());
            let indexed = Indexed::new(&pack, &evidence);
            for d in [0, 0, 1, 0, 7, 0, 0, 1, 1, 0, -30, 0] {
                let options = Options::new(day + Duration::days(d));
                indexed.outcomes_generated(&options, &mut out, generated);
                assert_eq!(
                    out.to_vecs(),
                    fresh(&pack, &evidence, &options),
                    "{name}, {file}, day {d}"
                );
                asked += 1;
                if d == 1 {
                    indexed.outcomes_into(&options, &mut out);
                    assert_eq!(
                        out.to_vecs(),
                        fresh(&pack, &evidence, &options),
                        "{name}, {file}, day {d}, interpreted"
                    );
                }
            }
            // A what-if answer into the same buffer, then the generated code again.
            let options = Options::new(day);
            if let Some(key) = pack
                .keys()
                .iter()
                .find(|k| matches!(k.value_type, ValueType::Boolean) && k.derived.is_none())
            {
                if let Ok(change) = handback::parse_set(&format!("{}=false", key.key)) {
                    let mut whatif = handback::bulk::WhatIf::new(&indexed, &options);
                    if whatif.outcomes_into(&[change], "what if", &mut out).is_ok() {
                        indexed.outcomes_generated(&options, &mut out, generated);
                        assert_eq!(
                            out.to_vecs(),
                            fresh(&pack, &evidence, &options),
                            "{name}, {file}, after a what-if"
                        );
                    }
                }
            }
        }
    }
    assert!(asked >= 60, "only {asked} questions asked");
}

/// Over every shipped evidence file, on its own as-of date and a year either side.
#[test]
fn shipped_evidence_gives_the_interpreters_outcomes() {
    let mut files = 0;
    for (name, pack, generated, dirs) in packs() {
        for (file, evidence) in shipped_evidence(&pack, &dirs) {
            files += 1;
            let day = evidence
                .as_of()
                .unwrap_or_else(|| NaiveDate::from_ymd_opt(2017, 6, 1).unwrap());
            for as_of in [day, day - Duration::days(365), day + Duration::days(365)] {
                check(&pack, generated, &evidence, &Options::new(as_of))
                    .unwrap_or_else(|e| panic!("{name}, {file}: {e}"));
            }
        }
    }
    // The Rotherham record, the semantics and the Northmoor fixtures.
    assert!(files >= 15, "only {files} evidence files found");
}

/// A small deterministic generator (splitmix64) driven by the property's seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }
}

/// A value of `key`'s type: near the pack's thresholds (every parameter's default and a step
/// either side), at the ends of its range, or anywhere in it.
fn value(pack: &Pack, value_type: &ValueType, rng: &mut Rng) -> Option<serde_json::Value> {
    Some(match value_type {
        ValueType::Boolean => serde_json::Value::from(rng.below(4) != 0),
        ValueType::Number { range, .. } => {
            let mut candidates: Vec<f64> = pack
                .parameters()
                .iter()
                .filter_map(|p| match p.default {
                    handback::Value::Number(x) => Some(x),
                    _ => None,
                })
                .flat_map(|x| [x, x - 0.01, x + 0.01, x - 1.0, x + 1.0])
                .collect();
            candidates.extend([0.0, 0.25, 0.5, 1.0, 3.0, 10.0, 64.0, 250.0, -2.0]);
            candidates.extend(range.min);
            candidates.extend(range.max);
            let fits = |x: &f64| {
                range.min.is_none_or(|m| *x >= m)
                    && range.max.is_none_or(|m| *x <= m)
                    && (!range.integer || x.fract() == 0.0)
            };
            candidates.retain(fits);
            let x = *rng.pick(&candidates)?;
            serde_json::Value::from(x)
        }
        ValueType::Grade { scale } => {
            let scale = pack.scales().iter().find(|s| &s.id == scale)?;
            serde_json::Value::from(rng.pick(&scale.levels)?.clone())
        }
        ValueType::Date => {
            let day = NaiveDate::from_ymd_opt(2016, 1, 1)? + Duration::days(rng.below(1200) as i64);
            serde_json::Value::from(day.to_string())
        }
        ValueType::Text => serde_json::Value::from(*rng.pick(&["yes", "no", "partly"])?),
    })
}

/// Evidence for `pack` from `seed`: for each key (derived keys aside) a few observations or
/// none, council-wide or for a few functions, dated around `as_of` (some after it: invisible;
/// some long before: stale).
fn evidence(pack: &Pack, seed: u64, as_of: NaiveDate) -> Option<Evidence> {
    let mut rng = Rng(seed);
    let mut builder = EvidenceBuilder::new("Generated Council").as_of(as_of);
    let mut n = 0;
    let functions: Vec<&str> = pack.functions().iter().map(|f| f.id.as_str()).collect();
    for key in pack.keys() {
        if key.derived.is_some() || rng.below(5) == 0 {
            continue;
        }
        let series: Vec<Option<&str>> = match key.scope {
            Scope::Council => vec![None],
            Scope::Function => (0..=rng.below(3))
                .filter_map(|_| rng.pick(&functions).copied().map(Some))
                .collect(),
        };
        for function in series {
            let mut days: Vec<i64> = (0..=rng.below(3)).map(|_| rng.below(900) as i64 - 800).collect();
            days.sort_unstable();
            days.dedup();
            for day in days {
                n += 1;
                let date = as_of + Duration::days(day);
                let mut draft = ObservationDraft::new(
                    format!("o{n}"),
                    key.key.clone(),
                    value(pack, &key.value_type, &mut rng)?,
                    date,
                    "Generated",
                    "a passage",
                );
                if let Some(f) = function {
                    draft = draft.function(f);
                }
                if key.judgement {
                    draft = draft.judged_by("Commissioners");
                    if let Some(role) = key.judged_by_roles.first() {
                        draft = draft.role(role.clone());
                    }
                }
                builder = builder.observe(draft);
            }
        }
    }
    builder.build(pack).ok()
}

proptest! {
    #![proptest_config(Config {
        cases: 64,
        rng_seed: RngSeed::Fixed(0x5eed_0013),
        failure_persistence: None,
        ..Config::default()
    })]

    /// Generated evidence for every pack, on its as-of date, days either side and with a
    /// parameter overridden: the written-out rules give the interpreter's outcomes.
    #[test]
    fn generated_evidence_gives_the_interpreters_outcomes(seed in any::<u64>(), day in 0i64..1500) {
        let as_of = NaiveDate::from_ymd_opt(2015, 6, 1).unwrap() + Duration::days(day);
        let mut built = 0;
        for (name, pack, generated, _) in packs() {
            let Some(evidence) = evidence(&pack, seed, as_of) else { continue };
            built += 1;
            for d in [0, -40, 200] {
                let options = Options::new(as_of + Duration::days(d));
                check(&pack, generated, &evidence, &options).map_err(|e| TestCaseError::fail(format!("{name}: {e}")))?;
            }
            if let Some(p) = pack.parameters().first() {
                let mut options = Options::new(as_of);
                let value = match p.default {
                    handback::Value::Number(x) => (x + 1.0).to_string(),
                    _ => continue,
                };
                if options.set_parameter(&pack, &p.name, &value).is_ok() {
                    check(&pack, generated, &evidence, &options).map_err(|e| TestCaseError::fail(format!("{name}, {} = {value}: {e}", p.name)))?;
                }
            }
        }
        prop_assert!(built >= 3, "evidence built for only {built} packs");
    }
}
