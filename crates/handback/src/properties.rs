//! Property tests over random packs and evidence.
//!
//! Packs and evidence are generated as JSON *text* and go through the real loaders, so the
//! properties cover loading as well as evaluation. Proptest draws a seed and sizes; a small
//! deterministic generator builds the pack from them (shrinking is therefore coarse, but every
//! failure is reproducible from the seed proptest prints).
//!
//! Runs are reproducible: proptest's own random source starts from a fixed seed ([`config`]), so
//! every run, in CI or not, tries the same cases and a red build means a real regression. A
//! failure found is persisted in `proptest-regressions/` (commit it) and replayed first; cases
//! that once failed are also kept as named tests. To explore new cases locally, set
//! `PROPTEST_RNG_SEED` to another number.
//!
//! Properties: determinism, order-independence (observations, rules, rule files, vocabulary),
//! monotonicity of the monotone fragment, invisibility of evidence after the as-of date, and
//! agreement with the reference evaluator in `reference.rs`.

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{json, Value as J};

use crate::assess::{assess, outcomes, Options, Outcome, Truth};
use crate::evidence::Evidence;
use crate::pack::{Pack, SourceFile};

/// SplitMix64: tiny, deterministic, good enough to spread choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

const NUMBER_KEYS: [(&str, &str); 3] = [
    ("n0", "higher_is_better"),
    ("n1", "lower_is_better"),
    ("n2", "higher_is_better"),
];
const BOOL_KEYS: [&str; 2] = ["b0", "b1"];
/// A judgement key, which a scenario's observation must say was judged, and in which role.
const JUDGEMENT_KEY: &str = "j0";
const GRADE_KEYS: [&str; 1] = ["g0"];
const FUNCTION_KEYS: [(&str, &str); 1] = [("f0", "lower_is_better")];
const FUNCTIONS: [&str; 2] = ["fa", "fb"];
const LEVELS: [&str; 3] = ["low", "mid", "high"];
const DAYS: i64 = 400;

/// The seed proptest's random source starts from unless `PROPTEST_RNG_SEED` says otherwise.
const RNG_SEED: u64 = 0x4841_4E44_4241_434B;

/// The configuration every property here runs with: a fixed seed, failures persisted next to the
/// source (`proptest-regressions/`). `PROPTEST_CASES` set in the environment replaces `cases`,
/// for a deeper run by hand (`PROPTEST_CASES=3000 cargo test --release -p handback --lib`).
pub(crate) fn config(cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(cases);
    let default = ProptestConfig::default();
    let rng_seed = match default.rng_seed {
        proptest::test_runner::RngSeed::Random => proptest::test_runner::RngSeed::Fixed(RNG_SEED),
        chosen => chosen,
    };
    ProptestConfig {
        cases,
        rng_seed,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::SourceParallel("proptest-regressions"),
        )),
        ..default
    }
}

/// A number a rule or an observation may use: quarters from 0 to 9.75, so thresholds and values
/// are fractional as often as whole.
fn quarter(rng: &mut Rng) -> f64 {
    rng.below(40) as f64 / 4.0
}

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2016, 1, 1).unwrap_or_default()
}

/// A generated pack: its files, plus the rule objects (kept apart so tests can re-split them).
struct Generated {
    fixed_files: Vec<(String, J)>,
    rules: Vec<J>,
}

fn vocabulary(rng: &mut Rng, shuffle: bool) -> J {
    let mut keys: Vec<J> = Vec::new();
    for (k, dir) in NUMBER_KEYS {
        let mut key = json!({"key": k, "type": "number", "unit": "u", "direction": dir, "description": "n"});
        if k == "n2" {
            key["max_age_days"] = json!(120);
        }
        // A maximum age that is a parameter, which an override moves: every leaf of `n1` reads
        // `w0`, whatever its test.
        if k == "n1" {
            key["max_age_days"] = json!({"param": "w0"});
        }
        keys.push(key);
    }
    for k in BOOL_KEYS {
        keys.push(json!({"key": k, "type": "boolean", "description": "b"}));
    }
    for k in GRADE_KEYS {
        keys.push(json!({"key": k, "type": "grade", "scale": "s", "description": "g"}));
    }
    for (k, dir) in FUNCTION_KEYS {
        keys.push(json!({"key": k, "type": "number", "unit": "u", "direction": dir, "scope": "function", "description": "f"}));
    }
    for (k, dir, formula) in derived_keys() {
        keys.push(json!({"key": k, "type": "number", "unit": "u", "direction": dir, "derived": formula, "description": "d"}));
    }
    // A judgement counted only in some roles: no rule reads it, but a scenario may set it.
    keys.push(json!({"key": JUDGEMENT_KEY, "type": "boolean", "judgement": true, "judged_by_roles": ["inspectorate", "council"], "description": "j"}));
    if shuffle {
        rng.shuffle(&mut keys);
    }
    json!({"scales": [{"id": "s", "title": "s", "levels": LEVELS}], "keys": keys})
}

/// Derived keys over the council-wide number keys: every formula, and one derived key read by
/// another. Packs that read none of them are unchanged by their presence.
fn derived_keys() -> [(&'static str, &'static str, J); 4] {
    [
        (
            "d0",
            "lower_is_better",
            json!({"ratio": ["n0", "n2"], "scale": 100}),
        ),
        ("d1", "higher_is_better", json!({"difference": ["n0", "n1"]})),
        ("d2", "higher_is_better", json!({"sum": ["d1", "n2"]})),
        (
            "d3",
            "lower_is_better",
            json!({"percent_change": {"from": "n1", "to": "n0"}}),
        ),
    ]
}

/// Points some leaves on council-wide number keys at derived keys instead, with thresholds in
/// their range (a parameter threshold becomes a literal: `p0` is in the inputs' unit).
fn with_derived(rules: &mut [J], seed: u64) {
    fn walk(v: &mut J, rng: &mut Rng) {
        match v {
            J::Object(map) => {
                let is_number_leaf = map
                    .get("key")
                    .and_then(J::as_str)
                    .is_some_and(|k| NUMBER_KEYS.iter().any(|(n, _)| *n == k));
                if is_number_leaf && rng.chance(60) {
                    let (k, _, _) = &derived_keys()[rng.below(4)];
                    map.insert("key".into(), json!(k));
                    // A key compared with another key takes no threshold.
                    if map.contains_key("op") && !map.contains_key("against") {
                        map.remove("param");
                        let threshold = match *k {
                            "d0" => quarter(rng) * 40.0,
                            "d3" => quarter(rng) * 40.0 - 100.0,
                            _ => quarter(rng) * 2.0 - 10.0,
                        };
                        map.insert("value".into(), json!(threshold));
                    }
                }
                for (_, child) in map.iter_mut() {
                    walk(child, rng);
                }
            }
            J::Array(items) => items.iter_mut().for_each(|i| walk(i, rng)),
            _ => {}
        }
    }
    let mut rng = Rng(seed ^ 0xD0D0);
    rules.iter_mut().for_each(|r| walk(r, &mut rng));
}

/// Evidence whose council-wide number keys are often observed on the same day (so derived keys
/// have values), with zeros now and then (so denominators are zero).
fn aligned_evidence_json(seed: u64, count: usize) -> J {
    let mut json = evidence_json(seed, count);
    let mut rng = Rng(seed ^ 0xA11);
    if let Some(list) = json["observations"].as_array_mut() {
        let mut extra = Vec::new();
        for o in list.iter() {
            let key = o["key"].as_str().unwrap_or_default();
            if !NUMBER_KEYS.iter().any(|(n, _)| *n == key) || !rng.chance(70) {
                continue;
            }
            for (sibling, _) in NUMBER_KEYS {
                let taken = list
                    .iter()
                    .chain(&extra)
                    .any(|x: &J| x["key"] == json!(sibling) && described_day(x) == described_day(o));
                if taken {
                    continue;
                }
                let mut copy = o.clone();
                copy["id"] = json!(format!("{}-{sibling}", o["id"].as_str().unwrap_or_default()));
                copy["key"] = json!(sibling);
                copy["value"] = json!(if rng.chance(10) { 0.0 } else { quarter(&mut rng) });
                extra.push(copy);
            }
        }
        list.extend(extra);
    }
    json
}

/// A random condition. `monotone` restricts it to the monotone fragment.
fn condition(
    rng: &mut Rng,
    depth: u32,
    earlier: &[(String, bool, bool)],
    per_function: bool,
    monotone: bool,
) -> J {
    let choice = if depth == 0 {
        4 + rng.below(6)
    } else {
        rng.below(10)
    };
    let kids = |rng: &mut Rng| -> Vec<J> {
        (0..1 + rng.below(3))
            .map(|_| condition(rng, depth.saturating_sub(1), earlier, per_function, monotone))
            .collect()
    };
    match choice {
        0 => json!({"all": kids(rng)}),
        1 => json!({"any": kids(rng)}),
        2 => {
            let of = kids(rng);
            let k = 1 + rng.below(of.len());
            json!({"at_least": k, "of": of})
        }
        3 if !monotone => {
            json!({"not": condition(rng, depth.saturating_sub(1), earlier, per_function, monotone)})
        }
        4 | 3 if !earlier.is_empty() && rng.chance(40) => reference(rng, earlier, per_function),
        _ => leaf(rng, per_function, monotone),
    }
}

/// A reference to a random earlier rule (`earlier` is not empty). Any earlier rule may be
/// referred to; a per-function one from a council-wide rule names its function.
fn reference(rng: &mut Rng, earlier: &[(String, bool, bool)], per_function: bool) -> J {
    // (id, per_function, graded)
    let (id, pf, graded) = &earlier[rng.below(earlier.len())];
    let mut r = json!({"rule": id});
    if *pf && !per_function {
        r["function"] = json!(FUNCTIONS[rng.below(2)]);
    }
    if *graded {
        r["at_least"] = json!(LEVELS[rng.below(3)]);
    }
    r
}

fn number_op(rng: &mut Rng, dir: &str, monotone: bool) -> &'static str {
    if monotone {
        match (dir, rng.chance(50)) {
            ("higher_is_better", true) => ">=",
            ("higher_is_better", false) => ">",
            (_, true) => "<=",
            _ => "<",
        }
    } else {
        ["<", "<=", ">", ">=", "==", "!="][rng.below(6)]
    }
}

/// A window of days: written, or the parameter `w0` (90 days).
fn window(rng: &mut Rng, base: usize, spread: usize) -> J {
    if rng.chance(20) {
        json!({"param": "w0"})
    } else {
        json!(base + rng.below(spread))
    }
}

/// The constructs of #14 over council-wide keys: a count (running or not), a key against a key,
/// and outside the monotone fragment a sized trend and the days since an event.
fn extended_leaf(rng: &mut Rng, monotone: bool) -> J {
    let choice = if monotone { rng.below(2) } else { rng.below(4) };
    match choice {
        0 => {
            let mut l = if rng.chance(30) {
                json!({"key": BOOL_KEYS[rng.below(2)], "op": "==", "value": true})
            } else {
                let (k, dir) = NUMBER_KEYS[rng.below(NUMBER_KEYS.len())];
                json!({"key": k, "op": number_op(rng, dir, monotone), "value": quarter(rng)})
            };
            let at_least = if rng.chance(20) {
                json!({"param": "c0"})
            } else {
                json!(1 + rng.below(3))
            };
            l["count"] = json!({"at_least": at_least, "within_days": window(rng, 20, 200)});
            if rng.chance(40) {
                l["count"]["consecutive"] = json!(true);
            }
            l
        }
        1 => {
            // `n1` is lower-is-better and `n0`, `n2` higher-is-better: `n1 <= n0` gains when
            // either improves.
            let mut l = if monotone {
                let higher = ["n0", "n2"][rng.below(2)];
                if rng.chance(50) {
                    let op = ["<", "<="][rng.below(2)];
                    json!({"key": "n1", "op": op, "against": {"key": higher}})
                } else {
                    let op = [">", ">="][rng.below(2)];
                    json!({"key": higher, "op": op, "against": {"key": "n1"}})
                }
            } else {
                let a = NUMBER_KEYS[rng.below(3)].0;
                let b = NUMBER_KEYS[rng.below(3)].0;
                json!({"key": a, "op": number_op(rng, "", false), "against": {"key": b}})
            };
            if rng.chance(30) {
                l["against"]["same_date"] = json!(true);
            }
            l
        }
        2 => {
            let (k, _) = NUMBER_KEYS[rng.below(NUMBER_KEYS.len())];
            let mut l = json!({"key": k, "trend": "improving", "window_days": window(rng, 30, 200)});
            if rng.chance(50) {
                l["by_at_least"] = json!(0.25 + quarter(rng) / 2.0);
            } else {
                l["by_at_least_percent"] = json!(1 + rng.below(60));
            }
            l
        }
        _ => {
            let event = if rng.chance(50) {
                json!({"key": BOOL_KEYS[rng.below(2)], "op": "==", "value": rng.chance(70)})
            } else {
                let (k, dir) = NUMBER_KEYS[rng.below(NUMBER_KEYS.len())];
                json!({"key": k, "op": number_op(rng, dir, false), "value": quarter(rng)})
            };
            let bound = if rng.chance(50) { "at_most" } else { "at_least" };
            let mut l = json!({"days_since": event});
            l[bound] = window(rng, 5, 200);
            if rng.chance(40) {
                l["before"] = json!({"key": BOOL_KEYS[rng.below(2)], "op": "==", "value": true});
            }
            l
        }
    }
}

fn leaf(rng: &mut Rng, per_function: bool, monotone: bool) -> J {
    if rng.chance(25) {
        return extended_leaf(rng, monotone);
    }
    let kind = rng.below(if per_function { 5 } else { 4 });
    let mut l = match kind {
        0 => {
            let (k, dir) = NUMBER_KEYS[rng.below(NUMBER_KEYS.len())];
            let mut l = json!({"key": k, "op": number_op(rng, dir, monotone)});
            if k == "n0" && rng.chance(50) {
                l["param"] = json!("p0");
            } else {
                l["value"] = json!(quarter(rng));
            }
            match rng.below(6) {
                0 => l["sustained_days"] = window(rng, 30, 150),
                1 if !monotone => {
                    l = json!({"key": k, "trend": if rng.chance(50) {"improving"} else {"not_worsening"}, "window_days": window(rng, 30, 200)});
                }
                _ => {}
            }
            l
        }
        1 => {
            let k = BOOL_KEYS[rng.below(BOOL_KEYS.len())];
            if monotone || rng.chance(50) {
                json!({"key": k, "op": "==", "value": true})
            } else {
                json!({"key": k, "op": "!=", "value": true})
            }
        }
        2 => {
            let op = if monotone {
                [">=", ">"][rng.below(2)]
            } else {
                ["<", ">=", "=="][rng.below(3)]
            };
            json!({"key": GRADE_KEYS[0], "op": op, "value": LEVELS[rng.below(3)]})
        }
        3 => json!({"key": BOOL_KEYS[rng.below(2)], "present": true}),
        _ => {
            let (k, dir) = FUNCTION_KEYS[0];
            let mut l = json!({"key": k, "op": number_op(rng, dir, monotone), "value": quarter(rng)});
            if rng.chance(30) {
                l["fallback_to_council"] = json!(true);
            }
            l
        }
    };
    if rng.chance(15) {
        l["within_days"] = window(rng, 60, 200);
    }
    l
}

fn generate(seed: u64, rule_count: usize, monotone: bool) -> Generated {
    let mut rng = Rng(seed);
    let mut rules = Vec::new();
    let mut earlier: Vec<(String, bool, bool)> = Vec::new();
    for i in 0..rule_count {
        let id = format!("r{i}");
        let per_function = rng.chance(30);
        let graded = rng.chance(25);
        let mut rule = json!({
            "id": id, "title": "t", "quote": "q",
            "citation": {"source": "s", "at": "a"},
        });
        if per_function {
            rule["per_function"] = json!(true);
        }
        if graded {
            rule["kind"] = json!("graded");
            rule["scale"] = json!("s");
            rule["levels"] = json!([
                {"level": "high", "condition": condition(&mut rng, 2, &earlier, per_function, monotone)},
                {"level": "mid", "condition": condition(&mut rng, 2, &earlier, per_function, monotone)},
                {"level": "low"}
            ]);
        } else {
            rule["kind"] = json!("test");
            rule["condition"] = condition(&mut rng, 3, &earlier, per_function, monotone);
        }
        earlier.push((id, per_function, graded));
        rules.push(rule);
    }
    // Half the packs end with a rule that is an `all` or `any` of references alone, as rules
    // that gather others are (a shape the program decides without its stack machine). Drawn
    // from a stream of its own, so the rules above, and the packs kept as regression cases,
    // are those the seed always drew.
    let mut side = Rng(seed ^ 0x0a11_0f5e_f5e5);
    if earlier.len() >= 2 && side.chance(50) {
        let per_function = side.chance(30);
        let refs: Vec<J> = (0..2 + side.below(2))
            .map(|_| reference(&mut side, &earlier, per_function))
            .collect();
        let mut rule = json!({
            "id": format!("r{}", earlier.len()), "title": "t", "quote": "q",
            "citation": {"source": "s", "at": "a"}, "kind": "test",
            "condition": if side.chance(50) { json!({"all": refs}) } else { json!({"any": refs}) },
        });
        if per_function {
            rule["per_function"] = json!(true);
        }
        rules.push(rule);
    }
    let fixed_files = vec![
        (
            "pack.json".to_string(),
            json!({"id": "gen", "version": "1", "title": "generated"}),
        ),
        ("vocabulary.json".to_string(), vocabulary(&mut rng, false)),
        (
            "parameters.json".to_string(),
            json!({"parameters": [
                {"name": "p0", "type": "number", "unit": "u", "direction": "higher_is_better", "default": 5, "rationale": "r"},
                {"name": "w0", "type": "number", "unit": "days", "direction": "higher_is_better", "default": 90, "rationale": "a window"},
                {"name": "c0", "type": "number", "unit": "count", "direction": "higher_is_better", "default": 2, "rationale": "a count"}
            ]}),
        ),
        (
            "functions.json".to_string(),
            json!({"functions": FUNCTIONS.iter().map(|f| json!({"id": f, "title": f})).collect::<Vec<_>>()}),
        ),
    ];
    Generated { fixed_files, rules }
}

/// Evidence: dated and period observations, some recorded later than the day they describe,
/// some corrected by a later record of the same day.
fn evidence_json(seed: u64, count: usize) -> J {
    let mut rng = Rng(seed ^ 0x5555);
    let mut seen = std::collections::BTreeSet::new();
    let mut obs = Vec::new();
    let value_of = |key: &str, rng: &mut Rng| -> J {
        if BOOL_KEYS.contains(&key) {
            json!(rng.chance(50))
        } else if GRADE_KEYS.contains(&key) {
            json!(LEVELS[rng.below(3)])
        } else {
            json!(quarter(rng))
        }
    };
    for i in 0..count {
        let day = rng.below(DAYS as usize) as i64;
        let date = base() + chrono::Duration::days(day);
        let (key, function) = match rng.below(5) {
            0 | 1 => (NUMBER_KEYS[rng.below(3)].0, None),
            2 => (BOOL_KEYS[rng.below(2)], None),
            3 => (GRADE_KEYS[0], None),
            _ => {
                let f = if rng.chance(20) {
                    None
                } else {
                    Some(FUNCTIONS[rng.below(2)])
                };
                (FUNCTION_KEYS[0].0, f)
            }
        };
        let value = value_of(key, &mut rng);
        if !seen.insert((key, function, day)) {
            continue;
        }
        let day_text = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        let mut o = json!({
            "id": format!("o{i}"), "key": key, "value": value,
            "source": {"document": "d", "passage": "p"}
        });
        if rng.chance(15) {
            let from = date - chrono::Duration::days(rng.below(90) as i64);
            o["period"] = json!({"from": day_text(from), "to": day_text(date)});
        } else {
            o["date"] = json!(day_text(date));
        }
        let recorded = if rng.chance(15) {
            let r = date + chrono::Duration::days(rng.below(30) as i64);
            o["recorded"] = json!(day_text(r));
            r
        } else {
            date
        };
        if let Some(f) = function {
            o["function"] = json!(f);
        }
        // A correction: the same key, function and day, recorded later, with another value.
        if rng.chance(12) {
            let mut c = o.clone();
            c["id"] = json!(format!("o{i}c"));
            c["value"] = value_of(key, &mut rng);
            c["recorded"] = json!(day_text(
                recorded + chrono::Duration::days(1 + rng.below(30) as i64)
            ));
            obs.push(c);
        }
        obs.push(o);
    }
    json!({"council": "c", "observations": obs})
}

/// The day an observation describes (the last day of its period).
fn described_day(o: &J) -> String {
    o["date"]
        .as_str()
        .or_else(|| o["period"]["to"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn pack_files(g: &Generated, rule_files: usize, rng: &mut Rng, shuffle: bool) -> Vec<SourceFile> {
    let mut files: Vec<SourceFile> = g
        .fixed_files
        .iter()
        .map(|(name, json)| {
            let json = if name == "vocabulary.json" && shuffle {
                vocabulary(rng, true)
            } else {
                json.clone()
            };
            SourceFile {
                name: name.clone(),
                label: name.clone(),
                text: json.to_string(),
            }
        })
        .collect();
    let mut rules = g.rules.clone();
    if shuffle {
        rng.shuffle(&mut rules);
    }
    let mut buckets: Vec<Vec<J>> = vec![Vec::new(); rule_files.max(1)];
    for (i, r) in rules.into_iter().enumerate() {
        let b = if shuffle {
            rng.below(buckets.len())
        } else {
            i % buckets.len()
        };
        buckets[b].push(r);
    }
    for (i, b) in buckets.into_iter().enumerate() {
        files.push(SourceFile {
            name: format!("rules/file{i}.json"),
            label: format!("rules/file{i}.json"),
            text: json!({"rules": b}).to_string(),
        });
    }
    if shuffle {
        rng.shuffle(&mut files);
    }
    files
}

fn load(g: &Generated, files: usize, rng: &mut Rng, shuffle: bool) -> Pack {
    match Pack::load(&pack_files(g, files, rng, shuffle)) {
        Ok(p) => p,
        Err(e) => panic!("generated pack must load:\n{e}"),
    }
}

fn evidence(pack: &Pack, json: &J) -> Evidence {
    // A council-wide observation of a per-function key is refused unless some rule falls back
    // to it; the generator does not know the pack, so drop those no rule could read.
    let mut json = json.clone();
    if let Some(J::Array(list)) = json.get_mut("observations") {
        list.retain(|o| {
            let key = o["key"].as_str().unwrap_or_default();
            o.get("function").is_some()
                || pack
                    .key(key)
                    .is_some_and(|k| k.scope == crate::vocabulary::Scope::Council)
                || pack.falls_back_to_council(key)
        });
    }
    let file = SourceFile {
        name: "e.json".into(),
        label: "e.json".into(),
        text: json.to_string(),
    };
    match Evidence::load(pack, &file) {
        Ok(e) => e,
        Err(e) => panic!("generated evidence must load:\n{e}"),
    }
}

fn report(pack: &Pack, ev: &Evidence, as_of: NaiveDate) -> String {
    serde_json::to_string(&assess(pack, ev, &Options::new(as_of))).unwrap_or_default()
}

/// A truth order for outcomes: the lower bound a graded outcome certainly reaches.
fn floor(o: &Outcome) -> Option<usize> {
    match o {
        Outcome::Graded { level, at_least } => level.or(*at_least),
        Outcome::Test(_) => None,
    }
}

fn improve(obs: &mut J, rng: &mut Rng) {
    let key = obs["key"].as_str().unwrap_or_default().to_string();
    let bump = 1.0 + rng.below(5) as f64;
    let direction = NUMBER_KEYS
        .iter()
        .chain(FUNCTION_KEYS.iter())
        .find(|(k, _)| *k == key)
        .map(|(_, d)| *d);
    obs["value"] = match (direction, &obs["value"]) {
        (Some("higher_is_better"), J::Number(n)) => json!(n.as_f64().unwrap_or(0.0) + bump),
        (Some(_), J::Number(n)) => json!(n.as_f64().unwrap_or(0.0) - bump),
        (None, J::Bool(_)) => json!(true),
        (None, J::String(level)) => {
            let rank = LEVELS.iter().position(|l| l == level).unwrap_or(0);
            json!(LEVELS[(rank + 1 + rng.below(2)).min(2)])
        }
        (_, v) => v.clone(),
    };
}

proptest! {
    #![proptest_config(config(96))]

    /// The engine agrees with the reference evaluator on every rule and subject.
    #[test]
    fn agrees_with_reference(seed in any::<u64>(), rules in 1usize..12, obs in 0usize..60, day in 0i64..DAYS) {
        let g = generate(seed, rules, false);
        let pack = load(&g, 2, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, obs));
        let as_of = base() + chrono::Duration::days(day);
        let fast = outcomes(&pack, &ev, &Options::new(as_of));
        let slow = crate::reference::outcomes(&pack, &ev, as_of);
        prop_assert_eq!(fast, slow);
    }

    /// Same inputs, same bytes; and the order of observations, rules, rule files and vocabulary
    /// entries changes nothing.
    #[test]
    fn deterministic_and_order_independent(seed in any::<u64>(), rules in 1usize..12, obs in 0usize..60, day in 0i64..DAYS) {
        let g = generate(seed, rules, false);
        let mut rng = Rng(seed ^ 0xABCD);
        let pack = load(&g, 1, &mut rng, false);
        let ev_json = evidence_json(seed, obs);
        let as_of = base() + chrono::Duration::days(day);
        let first = report(&pack, &evidence(&pack, &ev_json), as_of);
        prop_assert_eq!(&first, &report(&pack, &evidence(&pack, &ev_json), as_of));

        let shuffled_pack = load(&g, 1 + rng.below(3), &mut rng, true);
        let mut shuffled = ev_json.clone();
        if let Some(list) = shuffled["observations"].as_array_mut() {
            rng.shuffle(list);
        }
        prop_assert_eq!(first, report(&shuffled_pack, &evidence(&shuffled_pack, &shuffled), as_of));
    }

    /// In the monotone fragment, improving one observation never makes a test worse nor lowers
    /// the level a graded rule certainly reaches.
    #[test]
    fn monotone_rules_never_get_worse(seed in any::<u64>(), rules in 1usize..12, obs in 1usize..60, day in 0i64..DAYS) {
        let g = generate(seed, rules, true);
        let mut rng = Rng(seed ^ 0x77);
        let pack = load(&g, 2, &mut rng, false);
        prop_assert!(pack.rules.iter().all(|r| r.monotone), "the generator made a non-monotone rule");
        let before_json = evidence_json(seed, obs);
        let mut after_json = before_json.clone();
        if let Some(list) = after_json["observations"].as_array_mut() {
            if !list.is_empty() {
                let i = rng.below(list.len());
                improve(&mut list[i], &mut rng);
            }
        }
        let as_of = base() + chrono::Duration::days(day);
        let before = outcomes(&pack, &evidence(&pack, &before_json), &Options::new(as_of));
        let after = outcomes(&pack, &evidence(&pack, &after_json), &Options::new(as_of));
        for (b_rule, a_rule) in before.iter().zip(&after) {
            for (b, a) in b_rule.iter().zip(a_rule) {
                match (b, a) {
                    (Outcome::Test(tb), Outcome::Test(ta)) => prop_assert!(ta >= tb, "{:?} became {:?}", tb, ta),
                    _ => prop_assert!(floor(a) >= floor(b), "{:?} became {:?}", b, a),
                }
            }
        }
    }

    /// Observations dated after the as-of date change nothing.
    #[test]
    fn later_evidence_is_invisible(seed in any::<u64>(), rules in 1usize..12, obs in 0usize..60, day in 0i64..DAYS) {
        let g = generate(seed, rules, false);
        let pack = load(&g, 2, &mut Rng(seed), false);
        let as_of = base() + chrono::Duration::days(day);
        let all = evidence_json(seed, obs);
        let mut visible = all.clone();
        if let Some(list) = visible["observations"].as_array_mut() {
            list.retain(|o| described_day(o) <= as_of.format("%Y-%m-%d").to_string());
        }
        prop_assert_eq!(
            outcomes(&pack, &evidence(&pack, &all), &Options::new(as_of)),
            outcomes(&pack, &evidence(&pack, &visible), &Options::new(as_of))
        );
    }
}

#[test]
fn generated_packs_exercise_every_outcome() {
    // Guards the generator: properties over packs that are always unknown would prove little.
    let (mut met, mut not_met, mut unknown, mut graded) = (0, 0, 0, 0);
    for seed in 0..200u64 {
        let g = generate(seed, 8, false);
        let pack = load(&g, 2, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, 40));
        for o in outcomes(&pack, &ev, &Options::new(base() + chrono::Duration::days(300)))
            .iter()
            .flatten()
        {
            match o {
                Outcome::Test(Truth::Met) => met += 1,
                Outcome::Test(Truth::NotMet) => not_met += 1,
                Outcome::Test(Truth::Unknown) => unknown += 1,
                Outcome::Graded { level: Some(_), .. } => graded += 1,
                Outcome::Graded { .. } => {}
            }
        }
    }
    assert!(
        met > 50 && not_met > 50 && unknown > 50 && graded > 50,
        "{met} {not_met} {unknown} {graded}"
    );
}

#[test]
fn generated_packs_exercise_the_new_constructs() {
    // Guards the generator: agreement with the reference evaluator proves little about a
    // construct that never comes out met, not met and unknown.
    let mut seen: std::collections::BTreeMap<(&str, Truth), usize> = std::collections::BTreeMap::new();
    for seed in 0..300u64 {
        let g = generate(seed, 8, false);
        let pack = load(&g, 2, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, 50));
        for day in [150, 300, 399] {
            let options = Options::new(base() + chrono::Duration::days(day));
            let engine = crate::assess::Engine::new(&pack, &ev, &options);
            for rule in &pack.rules {
                for (_, c) in rule.body.conditions() {
                    c.for_each_leaf(&mut |l| {
                        let name = match &l.test {
                            crate::rules::LeafTest::Count {
                                consecutive: false, ..
                            } => "count",
                            crate::rules::LeafTest::Count {
                                consecutive: true, ..
                            } => "consecutive",
                            crate::rules::LeafTest::Against { .. } => "against",
                            crate::rules::LeafTest::Trend { by: Some(_), .. } => "change",
                            crate::rules::LeafTest::DaysSince { until: None, .. } => "days_since",
                            crate::rules::LeafTest::DaysSince { until: Some(_), .. } => "days_between",
                            _ => return,
                        };
                        let subject = rule.per_function.then_some(0);
                        *seen.entry((name, engine.leaf(l, subject).0)).or_default() += 1;
                    });
                }
            }
        }
    }
    for name in [
        "count",
        "consecutive",
        "against",
        "change",
        "days_since",
        "days_between",
    ] {
        for truth in [Truth::Met, Truth::NotMet, Truth::Unknown] {
            let n = seen.get(&(name, truth)).copied().unwrap_or(0);
            assert!(n >= 5, "`{name}` came out {truth:?} only {n} times: {seen:?}");
        }
    }
}

/// Drops `sustained_days` everywhere: a sustained window needs time as well as values, which
/// brute force over values alone cannot reach.
fn without_sustained(v: &mut J) {
    match v {
        J::Object(map) => {
            map.remove("sustained_days");
            map.values_mut().for_each(without_sustained);
        }
        J::Array(items) => items.iter_mut().for_each(without_sustained),
        _ => {}
    }
}

/// Replaces every leaf of the #14 constructs (counts, keys against keys, sized trends, days
/// since events) with `b0 == true`: `needs` plans one value per key, so brute force over single
/// values can reach what it does not offer for these (a count one short, an event recorded
/// today), and exactness is a property of the fragment it does plan.
fn without_extended(v: &mut J) {
    match v {
        J::Object(map) => {
            let extended = [
                "count",
                "against",
                "days_since",
                "by_at_least",
                "by_at_least_percent",
            ]
            .iter()
            .any(|k| map.contains_key(*k));
            if extended {
                *v = json!({"key": "b0", "op": "==", "value": true});
            } else {
                map.values_mut().for_each(without_extended);
            }
        }
        J::Array(items) => items.iter_mut().for_each(without_extended),
        _ => {}
    }
}

/// Whether a target's rule reads a #14 construct, itself or through the rules it refers to.
fn reads_extended(pack: &Pack, target: &crate::needs::Target) -> bool {
    let crate::needs::Target::Rule { rule, .. } = target else {
        return true;
    };
    let Some(start) = pack.rules.iter().position(|r| &r.id == rule) else {
        return false;
    };
    let mut stack = vec![start];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(i) = stack.pop() {
        if !seen.insert(i) {
            continue;
        }
        for (_, c) in pack.rules[i].body.conditions() {
            let mut found = false;
            c.for_each_leaf(&mut |l| {
                found |= matches!(
                    l.test,
                    crate::rules::LeafTest::Count { .. }
                        | crate::rules::LeafTest::Against { .. }
                        | crate::rules::LeafTest::DaysSince { .. }
                        | crate::rules::LeafTest::Trend { by: Some(_), .. }
                );
            });
            if found {
                return true;
            }
            c.for_each_ref(&mut |r| stack.push(r.rule));
        }
    }
    false
}

/// Every (key, function) a scenario could set, with a value satisfying every monotone leaf on it.
fn slots(pack: &Pack) -> Vec<(&'static str, Option<&'static str>, J)> {
    let mut out: Vec<(&'static str, Option<&'static str>, J)> = Vec::new();
    for (k, dir) in NUMBER_KEYS {
        out.push((k, None, json!(if dir == "higher_is_better" { 1e6 } else { -1e6 })));
    }
    for k in BOOL_KEYS {
        out.push((k, None, json!(true)));
    }
    out.push((GRADE_KEYS[0], None, json!("high")));
    for f in [None, Some("fa"), Some("fb")] {
        // A council-wide value of a per-function key is refused unless a rule falls back to it.
        if f.is_none() && !pack.falls_back_to_council(FUNCTION_KEYS[0].0) {
            continue;
        }
        out.push((FUNCTION_KEYS[0].0, f, json!(-1e6)));
    }
    out
}

fn met_with(
    pack: &Pack,
    ev: &Evidence,
    as_of: NaiveDate,
    target: &crate::needs::Target,
    changes: &[crate::whatif::Change],
) -> bool {
    let applied = crate::whatif::apply(pack, ev, as_of, &Default::default(), changes, "t").unwrap();
    crate::needs::target_met(pack, &applied.evidence, &Options::new(as_of), None, target)
}

/// Every (rule, function) target of a pack.
fn targets(pack: &Pack) -> Vec<crate::needs::Target> {
    let mut out = Vec::new();
    for rule in &pack.rules {
        let functions: Vec<Option<String>> = if rule.per_function {
            FUNCTIONS.iter().map(|f| Some(f.to_string())).collect()
        } else {
            vec![None]
        };
        for function in functions {
            out.push(crate::needs::Target::Rule {
                rule: rule.id.clone(),
                function,
            });
        }
    }
    out
}

fn set_changes(slots: &[(&str, Option<&str>, J)], mask: u32, as_of: NaiveDate) -> Vec<crate::whatif::Change> {
    slots
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, (k, f, v))| crate::whatif::Change::Set {
            key: k.to_string(),
            function: f.map(str::to_string),
            value: v.clone(),
            date: Some(as_of),
        })
        .collect()
}

/// On the monotone fragment, every set `needs` returns makes its target met, no proper subset
/// does, and the smallest set is as small as brute force over all key subsets can find.
fn needs_is_exact_on_the_monotone_fragment(
    seed: u64,
    rules: usize,
    obs: usize,
    day: i64,
) -> Result<(), TestCaseError> {
    let mut g = generate(seed, rules, true);
    g.rules.iter_mut().for_each(without_sustained);
    g.rules.iter_mut().for_each(without_extended);
    let pack = load(&g, 1, &mut Rng(seed), false);
    let ev = evidence(&pack, &evidence_json(seed, obs));
    let as_of = base() + chrono::Duration::days(day);
    let options = Options::new(as_of);
    let slots = slots(&pack);
    for target in targets(&pack) {
        let needs = crate::needs::needs(&pack, &ev, &options, None, &target);
        if needs.met {
            prop_assert!(met_with(&pack, &ev, as_of, &target, &[]));
            continue;
        }
        for set in &needs.sets {
            let changes = set.as_changes(as_of);
            prop_assert!(
                met_with(&pack, &ev, as_of, &target, &changes),
                "set {:?} does not meet {:?}",
                set.changes,
                target
            );
            for skip in 0..changes.len() {
                let fewer: Vec<_> = changes
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != skip)
                    .map(|(_, c)| c.clone())
                    .collect();
                prop_assert!(
                    !met_with(&pack, &ev, as_of, &target, &fewer),
                    "set {:?} is not minimal for {:?}",
                    set.changes,
                    target
                );
            }
        }
        // Brute force: the fewest keys that, set to their best values, meet the target.
        let mut best: Option<usize> = None;
        for mask in 0u32..(1 << slots.len()) {
            let size = mask.count_ones() as usize;
            if best.is_some_and(|b| size >= b) {
                continue;
            }
            if met_with(&pack, &ev, as_of, &target, &set_changes(&slots, mask, as_of)) {
                best = Some(size);
            }
        }
        let smallest = needs.sets.iter().map(|s| s.changes.len()).min();
        prop_assert_eq!(smallest, best, "needs and brute force disagree for {:?}", target);
    }
    Ok(())
}

/// Single changes a brute force tries outside the monotone fragment: each slot at either end of
/// its values.
fn single_changes(pack: &Pack) -> Vec<(&'static str, Option<&'static str>, J)> {
    let mut out = Vec::new();
    for (k, f, best) in slots(pack) {
        let worst = match &best {
            J::Number(n) => json!(-n.as_f64().unwrap_or(0.0)),
            J::Bool(b) => json!(!b),
            _ => json!("low"),
        };
        out.push((k, f, best));
        out.push((k, f, worst));
    }
    out
}

/// With `not`, `trend`, `sustained_days`, any comparison: every set `needs` returns meets its
/// target on its earliest day, and when one change to either end of a key's values would meet
/// it, `needs` finds a way.
fn needs_is_sound_and_finds_single_changes(
    seed: u64,
    rules: usize,
    obs: usize,
    day: i64,
) -> Result<(), TestCaseError> {
    let g = generate(seed, rules, false);
    let pack = load(&g, 1, &mut Rng(seed), false);
    let ev = evidence(&pack, &evidence_json(seed, obs));
    let as_of = base() + chrono::Duration::days(day);
    let options = Options::new(as_of);
    for target in targets(&pack) {
        let needs = crate::needs::needs(&pack, &ev, &options, None, &target);
        // Checking each option over the overlay is a shortcut: it must offer exactly what
        // checking each over evidence rebuilt in full would.
        prop_assert_eq!(
            &needs,
            &crate::needs::needs_checked(&pack, &ev, &options, None, &target, false),
            "the overlay and the full check disagree for {:?}",
            target
        );
        if needs.met {
            prop_assert!(met_with(&pack, &ev, as_of, &target, &[]));
            continue;
        }
        for set in &needs.sets {
            let mut changes = set.as_changes(as_of);
            changes.push(crate::whatif::Change::AsOf(set.earliest));
            let applied =
                crate::whatif::apply(&pack, &ev, as_of, &Default::default(), &changes, "t").unwrap();
            prop_assert!(
                crate::needs::target_met(
                    &pack,
                    &applied.evidence,
                    &Options::new(set.earliest),
                    None,
                    &target
                ),
                "set {:?} does not meet {:?}",
                set.changes,
                target
            );
        }
        // `needs` offers nothing for some of the #14 constructs (a count several short, an
        // event on a given day); what it offers is checked above all the same.
        if needs.sets.is_empty() && !reads_extended(&pack, &target) {
            let singles = single_changes(&pack);
            for i in 0..singles.len() {
                let changes = set_changes(&singles, 1 << i, as_of);
                prop_assert!(
                    !met_with(&pack, &ev, as_of, &target, &changes),
                    "needs found nothing for {:?} but {:?} meets it (blocks: {:?})",
                    target,
                    changes,
                    needs.blocks
                );
            }
        }
    }
    Ok(())
}

/// With derived keys read by rules: the engine agrees with the reference evaluator, the report
/// does not depend on the order of anything, and every set `needs` returns meets its target.
fn derived_keys_agree_are_order_independent_and_needs_stays_sound(
    seed: u64,
    rules: usize,
    obs: usize,
    day: i64,
) -> Result<(), TestCaseError> {
    let mut g = generate(seed, rules, false);
    with_derived(&mut g.rules, seed);
    let mut rng = Rng(seed ^ 0xDE);
    let pack = load(&g, 2, &mut rng, false);
    let ev_json = aligned_evidence_json(seed, obs);
    let ev = evidence(&pack, &ev_json);
    let as_of = base() + chrono::Duration::days(day);
    prop_assert_eq!(
        outcomes(&pack, &ev, &Options::new(as_of)),
        crate::reference::outcomes(&pack, &ev, as_of)
    );
    let first = report(&pack, &ev, as_of);
    let shuffled_pack = load(&g, 1 + rng.below(3), &mut rng, true);
    let mut shuffled = ev_json.clone();
    if let Some(list) = shuffled["observations"].as_array_mut() {
        rng.shuffle(list);
    }
    prop_assert_eq!(
        first,
        report(&shuffled_pack, &evidence(&shuffled_pack, &shuffled), as_of)
    );
    for target in targets(&pack).into_iter().take(3) {
        let needs = crate::needs::needs(&pack, &ev, &Options::new(as_of), None, &target);
        prop_assert_eq!(
            &needs,
            &crate::needs::needs_checked(&pack, &ev, &Options::new(as_of), None, &target, false),
            "the overlay and the full check disagree for {:?}",
            target
        );
        for set in &needs.sets {
            let mut changes = set.as_changes(as_of);
            changes.push(crate::whatif::Change::AsOf(set.earliest));
            let applied =
                crate::whatif::apply(&pack, &ev, as_of, &Default::default(), &changes, "t").unwrap();
            prop_assert!(
                crate::needs::target_met(
                    &pack,
                    &applied.evidence,
                    &Options::new(set.earliest),
                    None,
                    &target
                ),
                "set {:?} does not meet {:?}",
                set.changes,
                target
            );
        }
    }
    Ok(())
}

/// Guards the derived-key generator: the properties above would prove little if derived keys
/// never had values, or never met a zero denominator.
#[test]
fn generated_evidence_exercises_derived_keys() {
    let (mut values, mut undefined, mut met, mut not_met) = (0, 0, 0, 0);
    for seed in 0..60u64 {
        let mut g = generate(seed, 8, false);
        with_derived(&mut g.rules, seed);
        let pack = load(&g, 2, &mut Rng(seed), false);
        let ev = evidence(&pack, &aligned_evidence_json(seed, 40));
        if let Some(p) = crate::derived::prepare(&pack, &ev) {
            values += p.derivations.len();
            undefined += p.undefined.values().map(Vec::len).sum::<usize>();
        }
        let as_of = base() + chrono::Duration::days(300);
        for r in assess(&pack, &ev, &Options::new(as_of)).results {
            let reads_derived = r.reason.as_ref().is_some_and(|x| {
                serde_json::to_string(x)
                    .unwrap_or_default()
                    .contains("is derived as")
                    || serde_json::to_string(x).unwrap_or_default().contains("` = `")
            });
            match (reads_derived, r.outcome.code()) {
                (true, "met") => met += 1,
                (true, "not_met") => not_met += 1,
                _ => {}
            }
        }
    }
    assert!(
        values > 500 && undefined > 5,
        "{values} derived values, {undefined} undefined"
    );
    assert!(
        met > 20 && not_met > 20,
        "{met} met and {not_met} not met on derived keys"
    );
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn derived_keys_agree_and_stay_sound(seed in any::<u64>(), rules in 1usize..8, obs in 0usize..50, day in 0i64..DAYS) {
        derived_keys_agree_are_order_independent_and_needs_stays_sound(seed, rules, obs, day)?;
    }
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn needs_is_sound_minimal_and_agrees_with_brute_force(seed in any::<u64>(), rules in 1usize..6, obs in 0usize..30, day in 200i64..DAYS) {
        needs_is_exact_on_the_monotone_fragment(seed, rules, obs, day)?;
    }

    #[test]
    fn needs_with_not_is_sound_and_finds_single_changes(seed in any::<u64>(), rules in 1usize..6, obs in 0usize..30, day in 200i64..DAYS) {
        needs_is_sound_and_finds_single_changes(seed, rules, obs, day)?;
    }

    /// A diff of an assessment with itself is empty, and diffs are antisymmetric.
    #[test]
    fn diffs_are_empty_on_self_and_antisymmetric(seed in any::<u64>(), rules in 1usize..10, obs in 0usize..40, day in 0i64..DAYS) {
        let g = generate(seed, rules, false);
        let pack = load(&g, 1, &mut Rng(seed), false);
        let as_of = base() + chrono::Duration::days(day);
        let a = assess(&pack, &evidence(&pack, &evidence_json(seed, obs)), &Options::new(as_of));
        let b = assess(&pack, &evidence(&pack, &evidence_json(seed ^ 1, obs)), &Options::new(as_of));
        prop_assert!(crate::whatif::diff(&pack, &a, &a, None).is_empty());
        let forward = crate::whatif::diff(&pack, &a, &b, None);
        let backward = crate::whatif::diff(&pack, &b, &a, None);
        let flip = |d: &crate::whatif::Diff| {
            let mut v: Vec<_> = d.outcomes.iter().map(|o| (o.rule.clone(), o.function.clone(), o.before.clone(), o.after.clone())).collect();
            v.sort();
            v
        };
        let swapped: Vec<_> = flip(&backward).into_iter().map(|(r, f, x, y)| (r, f, y, x)).collect();
        let mut swapped = swapped;
        swapped.sort();
        prop_assert_eq!(flip(&forward), swapped);
    }
}

/// Seed 4200804922381774375 (rules 2, observations 16, day 284) failed about one run in ten:
/// `present` suggested `false` for `b0`, breaking a met `b0 == true`. The generator has grown
/// since (fractions, `not`, periods, corrections), so the seed now draws another pack; the shrunk
/// pack it drew then is kept verbatim in `tests/needs.rs`
/// (`a_present_requirement_never_breaks_a_met_comparison`).
#[test]
fn regression_needs_seed_4200804922381774375() {
    let seed = 4_200_804_922_381_774_375;
    needs_is_exact_on_the_monotone_fragment(seed, 2, 16, 284).unwrap();
    for (rules, obs, day) in [(2, 16, 284), (5, 29, 399), (3, 10, 250)] {
        needs_is_sound_and_finds_single_changes(seed, rules, obs, day).unwrap();
    }
}

/// A case the robustness work saw fail on the unseeded property (seed 244638418670453820,
/// rules 5, observations 27, day 246: a set that did not meet `r4`), kept as a regression.
#[test]
fn regression_needs_seed_244638418670453820() {
    let seed = 244_638_418_670_453_820;
    needs_is_exact_on_the_monotone_fragment(seed, 5, 27, 246).unwrap();
    needs_is_sound_and_finds_single_changes(seed, 5, 27, 246).unwrap();
}

/// Random scenario changes over the generated vocabulary: sets (valid and invalid values, with
/// and without dates, sometimes twice on the same day), removals (of real and unknown ids) and
/// as-of moves.
fn scenario_changes(seed: u64, ev: &Evidence) -> Vec<crate::whatif::Change> {
    use crate::whatif::Change;
    let mut rng = Rng(seed ^ 0x7777);
    let mut out = Vec::new();
    for _ in 0..1 + rng.below(5) {
        let date = rng
            .chance(60)
            .then(|| base() + chrono::Duration::days(rng.below(DAYS as usize) as i64));
        let change = match rng.below(12) {
            // A derived key, which the loader refuses to be observed.
            10 => Change::Set {
                key: derived_keys()[rng.below(4)].0.into(),
                function: None,
                value: json!(quarter(&mut rng)),
                date,
            },
            11 => Change::Set {
                key: JUDGEMENT_KEY.into(),
                function: None,
                value: json!(rng.chance(50)),
                date,
            },
            0 => Change::AsOf(base() + chrono::Duration::days(rng.below(DAYS as usize) as i64)),
            1 => {
                let ids: Vec<&str> = ev.observations.iter().map(|o| o.id.as_str()).collect();
                let id = if ids.is_empty() || rng.chance(20) {
                    "nowhere".to_string()
                } else {
                    ids[rng.below(ids.len())].to_string()
                };
                Change::Remove(id)
            }
            2 | 3 => Change::Set {
                key: BOOL_KEYS[rng.below(2)].into(),
                function: None,
                value: if rng.chance(90) {
                    json!(rng.chance(50))
                } else {
                    json!("perhaps")
                },
                date,
            },
            4 => Change::Set {
                key: GRADE_KEYS[0].into(),
                function: None,
                value: json!(LEVELS[rng.below(3)]),
                date,
            },
            5 => Change::Set {
                key: FUNCTION_KEYS[0].0.into(),
                function: Some(FUNCTIONS[rng.below(2)].into()),
                value: json!(quarter(&mut rng)),
                date,
            },
            _ => Change::Set {
                key: NUMBER_KEYS[rng.below(3)].0.into(),
                function: None,
                value: json!(quarter(&mut rng)),
                date,
            },
        };
        out.push(change);
    }
    // Often, something set twice on one day: the later must supersede (its id and citation
    // are its own, so keeping the earlier shows).
    if rng.chance(50) {
        let dated = out
            .iter()
            .find(|c| matches!(c, crate::whatif::Change::Set { date: Some(_), .. }))
            .cloned();
        out.extend(dated);
    }
    // Now and then, an observation of the evidence set again on its own day: the change must
    // supersede it (and only it).
    if rng.chance(30) && !ev.observations.is_empty() {
        let o = &ev.observations[rng.below(ev.observations.len())];
        out.push(Change::Set {
            key: o.key.clone(),
            function: o.function.clone(),
            value: serde_json::to_value(&o.value).unwrap_or_default(),
            date: Some(o.date),
        });
    }
    // Now and then, an observation an earlier change set removed again (`scenario-1`).
    if rng.chance(15) {
        out.push(Change::Remove(format!("{}1", crate::whatif::SCENARIO_ID_PREFIX)));
    }
    out
}

proptest! {
    #![proptest_config(config(96))]

    /// A scenario applied to the loaded evidence in place gives exactly what writing the edited
    /// evidence out and loading it again gives, errors included.
    #[test]
    fn scenarios_applied_in_place_equal_the_document_path(seed in any::<u64>(), rules in 1usize..6, obs in 0usize..40, day in 0i64..DAYS) {
        let g = generate(seed, rules, false);
        let pack = load(&g, 1, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, obs));
        let as_of = base() + chrono::Duration::days(day);
        let changes = scenario_changes(seed, &ev);
        let parameters = std::collections::BTreeMap::new();
        let fast = crate::whatif::apply_with(&pack, &ev, (as_of, &parameters), &changes, ("s", &[]), true);
        let slow = crate::whatif::apply_with(&pack, &ev, (as_of, &parameters), &changes, ("s", &[]), false);
        prop_assert_eq!(fast, slow, "changes: {:?}", changes);
    }
}

proptest! {
    // More cases than the block above: a missed reference or superseded day shows only when
    // the change lands where a rule reads it.
    #![proptest_config(config(384))]

    /// What-if over indexed evidence (the changed series overlaid, only the rules that read
    /// them re-evaluated) answers as applying the changes and assessing afresh does, errors
    /// included; and as the reference evaluator does where the changes apply.
    #[test]
    fn whatif_over_the_index_equals_applying_and_assessing(seed in any::<u64>(), rules in 1usize..8, obs in 0usize..40, day in 0i64..DAYS) {
        let mut g = generate(seed, rules, false);
        // Now and then rules read derived keys, whose inputs a change must not be overlaid on.
        if seed % 3 == 0 {
            with_derived(&mut g.rules, seed);
        }
        let pack = load(&g, 1, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, obs));
        let mut options = Options::new(base() + chrono::Duration::days(day));
        // Now and then a parameter is already overridden, which an answer's own overrides add to.
        if seed % 5 == 0 {
            options.parameters.insert("p0".into(), crate::vocabulary::Value::Number(3.0));
        }
        let indexed = crate::program::Indexed::new(&pack, &ev);
        let mut whatif = crate::program::WhatIf::new(&indexed, &options);
        let mut out = crate::program::Outcomes::new();
        // Three times over one `WhatIf`, so scratch left from an answer (a set, an override)
        // would show in the next.
        for salt in [0u64, 1, 2] {
            let changes = overlaid_changes(seed ^ salt, &pack, &ev);
            let got = whatif.outcomes_into(&changes, "s", &mut out).map(|()| out.to_vecs());
            let applied = crate::whatif::apply(&pack, &ev, options.as_of, &options.parameters, &changes, "s");
            let want = applied.as_ref().map(|a| {
                let after = Options { parameters: a.parameters.clone(), ..Options::new(a.as_of) };
                outcomes(&pack, &a.evidence, &after)
            });
            prop_assert_eq!(&got, &want.clone().map_err(|e| e.clone()), "changes: {:?}", changes);
            // The reference evaluator knows the parameters' defaults only.
            if let Some(a) = applied.as_ref().ok().filter(|a| a.parameters.is_empty()) {
                prop_assert_eq!(got.ok(), Some(crate::reference::outcomes(&pack, &a.evidence, a.as_of)));
            }
        }
    }
}

/// Scenario changes for [`whatif_over_the_index_equals_applying_and_assessing`]: mostly sets
/// alone (which the overlay stands for), of keys the rules compare, next to or far from the
/// thresholds they are compared with, so that outcomes flip; sometimes on the day of an
/// observation the evidence has (which the set supersedes); now and then with the other kinds
/// of change mixed in.
fn overlaid_changes(seed: u64, pack: &Pack, ev: &Evidence) -> Vec<crate::whatif::Change> {
    use crate::rules::{Condition, LeafTest, Threshold};
    use crate::vocabulary::Value;
    let mut rng = Rng(seed ^ 0x3131);
    let all = scenario_changes(seed, ev);
    if rng.chance(20) {
        return all;
    }
    // The latest-value leaves: (key, function pinned, threshold).
    let mut leaves: Vec<(usize, Option<String>, Option<Value>)> = Vec::new();
    for rule in pack.rules() {
        let mut stack: Vec<&Condition> = match &rule.body {
            crate::rules::Body::Test(c) => vec![c],
            crate::rules::Body::Graded { levels, .. } => {
                levels.iter().filter_map(|l| l.condition.as_ref()).collect()
            }
        };
        while let Some(c) = stack.pop() {
            match c {
                Condition::All(p) | Condition::Any(p) | Condition::AtLeast(_, p) => stack.extend(p.iter()),
                Condition::Not(inner) => stack.push(inner),
                Condition::Rule(_) => {}
                Condition::Leaf(l) => match &l.test {
                    LeafTest::Compare {
                        threshold: Threshold::Literal(v),
                        ..
                    } => leaves.push((l.key, l.function.clone(), Some(v.clone()))),
                    LeafTest::Compare { .. } | LeafTest::Present => {
                        leaves.push((l.key, l.function.clone(), None))
                    }
                    _ => {}
                },
            }
        }
    }
    let mut out: Vec<crate::whatif::Change> = Vec::new();
    for _ in 0..1 + rng.below(3) {
        if leaves.is_empty() {
            break;
        }
        let (k, pinned, threshold) = leaves[rng.below(leaves.len())].clone();
        let Some(key) = pack.keys().get(k) else { continue };
        let function = match key.scope {
            crate::vocabulary::Scope::Council => None,
            crate::vocabulary::Scope::Function => {
                pinned.or_else(|| Some(FUNCTIONS[rng.below(2)].to_string()))
            }
        };
        let value = match (&key.value_type, threshold) {
            (crate::vocabulary::ValueType::Boolean, _) => json!(rng.chance(50)),
            (crate::vocabulary::ValueType::Grade { .. }, _) => json!(LEVELS[rng.below(3)]),
            (_, Some(Value::Number(t))) => json!(match rng.below(4) {
                0 => t,
                1 => t + 0.25,
                2 => t - 0.25,
                _ => quarter(&mut rng),
            }
            .max(0.0)),
            _ => json!(quarter(&mut rng)),
        };
        // On the as-of date, on a day the evidence has for the key, or on a day of the range.
        let date = match rng.below(3) {
            0 => None,
            1 => ev
                .observations
                .iter()
                .filter(|o| o.key_index == k)
                .nth(rng.below(4))
                .map(|o| o.date),
            _ => Some(base() + chrono::Duration::days(rng.below(DAYS as usize) as i64)),
        };
        out.push(crate::whatif::Change::Set {
            key: key.key.clone(),
            function,
            value,
            date,
        });
    }
    // The inputs of derived keys (which rules read in some packs), with values wide enough to
    // move a ratio or a difference across its threshold.
    if rng.chance(30) {
        out.push(crate::whatif::Change::Set {
            key: NUMBER_KEYS[rng.below(3)].0.into(),
            function: None,
            value: json!(quarter(&mut rng) * 4.0),
            date: None,
        });
    }
    if rng.chance(15) {
        out.extend(
            all.into_iter()
                .filter(|c| matches!(c, crate::whatif::Change::Set { .. })),
        );
    }
    // Parameters overridden (a threshold, a window, a count), now and then twice (the later
    // wins) or with a value the parameter refuses; before or after the sets.
    for _ in 0..usize::from(rng.chance(30)) + usize::from(rng.chance(10)) {
        let change = crate::whatif::Change::Param {
            name: ["p0", "w0", "c0"][rng.below(3)].into(),
            value: json!(if rng.chance(15) {
                [0.0, -1.0, 0.5][rng.below(3)]
            } else {
                [1.0, 2.0, 5.0, 30.0, 90.0, 400.0][rng.below(6)]
            }),
        };
        let at = rng.below(out.len() + 1);
        out.insert(at, change);
    }
    out
}

/// Guards the what-if property: it would prove little if the overlay were never taken, or never
/// with a parameter overridden (whose readers alone are evaluated again). Every pack reads `w0`
/// as `n1`'s maximum age, a whole number of days, so its values below 1 are refused (and the
/// answer takes `apply`'s path) more often than a free parameter's would be.
#[test]
fn generated_whatifs_often_take_the_overlay() {
    let (mut overlaid, mut reparameterised, mut observed, mut total) = (0, 0, 0, 0);
    for seed in 0..200u64 {
        let g = generate(seed, 1 + (seed % 7) as usize, false);
        let pack = load(&g, 1, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, (seed % 40) as usize));
        let options = Options::new(base() + chrono::Duration::days((seed as i64 * 37) % DAYS));
        let indexed = crate::program::Indexed::new(&pack, &ev);
        let mut whatif = crate::program::WhatIf::new(&indexed, &options);
        total += 1;
        let changes = overlaid_changes(seed, &pack, &ev);
        if whatif.overlay(&changes, "t").is_some() {
            overlaid += 1;
            observed += usize::from(whatif.overlays_observations());
            reparameterised += usize::from(
                changes
                    .iter()
                    .any(|c| matches!(c, crate::whatif::Change::Param { .. })),
            );
        }
    }
    assert!(
        overlaid * 20 >= total * 9 && reparameterised >= 20 && observed >= 20,
        "{overlaid} of {total} what-ifs took the overlay, {reparameterised} with a parameter overridden, {observed} setting a key read as observations"
    );
}

proptest! {
    // Many cases: a shared block or a memo wrong only for some shapes (a per-function rule
    // referring to another's own subject inside a council-wide subtree) shows up rarely.
    #![proptest_config(config(768))]

    /// The compiled program gives the tree interpreter's outcomes and the reference evaluator's,
    /// also through one index reused across dates with warm buffers (stale memos or outcomes
    /// left from the previous date would show here).
    #[test]
    fn compiled_program_agrees_with_the_interpreter_and_reference(seed in any::<u64>(), rules in 1usize..12, obs in 0usize..60, day in 0i64..DAYS) {
        let g = generate(seed, rules, false);
        let pack = load(&g, 2, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, obs));
        let prepared = crate::derived::prepare(&pack, &ev);
        let read = prepared.as_ref().map_or(&ev, |p| &p.evidence);
        let indexed = crate::program::Indexed::new(&pack, &ev);
        let mut out = crate::program::Outcomes::new();
        for d in [day, (day * 7 + 13) % DAYS, 0, day] {
            let as_of = base() + chrono::Duration::days(d);
            let options = Options::new(as_of);
            let interpreted = crate::assess::Engine::new(&pack, read, &options).outcomes_interpreted();
            indexed.outcomes_into(&options, &mut out);
            prop_assert_eq!(&out.to_vecs(), &interpreted);
            prop_assert_eq!(&outcomes(&pack, &ev, &options), &interpreted);
            prop_assert_eq!(interpreted, crate::reference::outcomes(&pack, &ev, as_of));

            // Parameters moved (thresholds, windows, counts), and a bitemporal replay.
            let mut moved = Options::new(as_of);
            for (name, value) in [("p0", "7"), ("w0", "30"), ("c0", "1")] {
                prop_assert!(moved.set_parameter(&pack, name, value).is_ok());
            }
            let interpreted = crate::assess::Engine::new(&pack, read, &moved).outcomes_interpreted();
            indexed.outcomes_into(&moved, &mut out);
            prop_assert_eq!(&out.to_vecs(), &interpreted);
            moved.known_at = Some(as_of - chrono::Duration::days(d % 40));
            indexed.outcomes_into(&moved, &mut out);
            prop_assert_eq!(out.to_vecs(), outcomes(&pack, &ev, &moved));
        }
    }
}

/// Checks a reason's part against its condition: the interpreter's truth of that condition, and
/// the pack's words for it (`says`, unless the caller knows better: a graded level's).
fn check_reason(
    pack: &Pack,
    engine: &crate::assess::Engine<'_>,
    c: &crate::rules::Condition,
    subject: Option<usize>,
    outcomes: &[Vec<Outcome>],
    reason: &crate::assess::Reason,
    says: Option<String>,
) -> Result<(), TestCaseError> {
    use crate::rules::Condition;
    let truth = engine.truth(c, subject, outcomes);
    prop_assert_eq!(&reason.outcome, &truth.into(), "{}", reason.says);
    prop_assert_eq!(
        &reason.says,
        &says.unwrap_or_else(|| crate::explain::part_words(pack, c))
    );
    let parts: Vec<&Condition> = match c {
        Condition::All(p) | Condition::Any(p) | Condition::AtLeast(_, p) => p.iter().collect(),
        Condition::Not(inner) => vec![inner],
        Condition::Leaf(_) | Condition::Rule(_) => vec![],
    };
    prop_assert_eq!(parts.len(), reason.parts.len());
    for (part, r) in parts.into_iter().zip(&reason.parts) {
        check_reason(pack, engine, part, subject, outcomes, r, None)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    /// Every part of an explained reason carries the interpreter's truth of its own condition
    /// and the pack's words for it: an explanation folds its parts' truths rather than
    /// evaluating each subtree again, and takes its sentences from the pack's cache, and
    /// neither may drift from what the condition says.
    #[test]
    fn reasons_carry_each_condition_truth_and_words(seed in any::<u64>(), rules in 1usize..12, obs in 0usize..60, day in 0i64..DAYS, moved in any::<bool>()) {
        use crate::rules::Body;
        let g = generate(seed, rules, false);
        let pack = load(&g, 2, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, obs));
        let as_of = base() + chrono::Duration::days(day);
        let mut options = Options::new(as_of);
        if moved {
            for (name, value) in [("p0", "7"), ("w0", "30"), ("c0", "1")] {
                prop_assert!(options.set_parameter(&pack, name, value).is_ok());
            }
        }
        let assessment = assess(&pack, &ev, &options);
        let prepared = crate::derived::prepare(&pack, &ev);
        let read = prepared.as_ref().map_or(&ev, |p| &p.evidence);
        let engine = crate::assess::Engine::new(&pack, read, &options).with_prepared(prepared.as_ref());
        let outcomes = engine.outcomes();
        let mut results = assessment.results.iter();
        for rule in &pack.rules {
            let subjects: Vec<Option<usize>> = if rule.per_function {
                (0..pack.functions.len()).map(Some).collect()
            } else {
                vec![None]
            };
            for subject in subjects {
                let reason = results.next().and_then(|r| r.reason.as_ref());
                prop_assert!(reason.is_some(), "a reason for `{}`", rule.id);
                let Some(reason) = reason else { continue };
                match &rule.body {
                    Body::Test(c) => check_reason(&pack, &engine, c, subject, &outcomes, reason, None)?,
                    Body::Graded { levels, .. } => {
                        prop_assert_eq!(levels.len(), reason.parts.len());
                        for (level, part) in levels.iter().zip(&reason.parts) {
                            match &level.condition {
                                Some(c) => {
                                    let says = format!("`{}` when {}", level.name, crate::explain::part_words(&pack, c));
                                    check_reason(&pack, &engine, c, subject, &outcomes, part, Some(says))?;
                                }
                                None => prop_assert_eq!(&part.says, &format!("`{}` otherwise", level.name)),
                            }
                        }
                    }
                }
            }
        }
        prop_assert!(results.next().is_none());
    }
}

/// Pins latest-value leaves of the function key to a function (with or without falling back to
/// the council's series) and gives leaves of `n2` (which has a maximum age) a `within` of their
/// own, written or the parameter `w0`: the shapes the generator does not make, which the values
/// in force decide apart from the rest (a pinned slot's own cell and the council's; the shorter
/// of two age limits).
fn with_pins(rules: &mut [J], seed: u64) {
    fn walk(v: &mut J, rng: &mut Rng) {
        match v {
            J::Object(map) => {
                let latest = map.contains_key("key")
                    && (map.contains_key("op") || map.contains_key("present"))
                    && map.keys().all(|k| {
                        [
                            "key",
                            "op",
                            "value",
                            "param",
                            "present",
                            "fallback_to_council",
                            "within_days",
                        ]
                        .contains(&k.as_str())
                    });
                let key = map.get("key").and_then(J::as_str).unwrap_or_default().to_owned();
                if latest && key == FUNCTION_KEYS[0].0 && rng.chance(70) {
                    map.insert("function".into(), json!(FUNCTIONS[rng.below(2)]));
                    map.insert("fallback_to_council".into(), json!(rng.chance(60)));
                }
                if latest && key == "n2" && rng.chance(80) {
                    let within = if rng.chance(40) {
                        json!({"param": "w0"})
                    } else {
                        json!(60 + rng.below(140))
                    };
                    map.insert("within_days".into(), within);
                }
                // Conditions nest only here (not in a test's own objects: `days_since`, ...).
                for (name, child) in map.iter_mut() {
                    if ["all", "any", "not", "of", "condition", "levels"].contains(&name.as_str()) {
                        walk(child, rng);
                    }
                }
            }
            J::Array(items) => items.iter_mut().for_each(|i| walk(i, rng)),
            _ => {}
        }
    }
    let mut rng = Rng(seed ^ 0x9147);
    rules.iter_mut().for_each(|r| walk(r, &mut rng));
}

/// Text comparisons are decided by searching the series, not from the values in force (which hold
/// numbers and grades): a pack with a text key `t0`, some of whose boolean leaves are turned into
/// comparisons of it, gives the interpreter's outcomes on a day asked about again and again
/// (where the values in force are kept) as on a day asked once, and so does a what-if over it.
/// Some compare with a text parameter (`tp`): a text threshold has no number to compare, so a
/// leaf resolving its threshold from a parameter's default must not take it for one.
#[test]
fn text_comparisons_agree_with_the_interpreter() {
    fn walk(v: &mut J, rng: &mut Rng, made: &mut (usize, usize)) {
        match v {
            J::Object(map) => {
                let boolean = map
                    .get("key")
                    .and_then(J::as_str)
                    .is_some_and(|k| BOOL_KEYS.contains(&k));
                if boolean && map.contains_key("op") && rng.chance(60) {
                    map.insert("key".into(), json!("t0"));
                    let (op, value) = (["==", "!="][rng.below(2)], ["yes", "no"][rng.below(2)]);
                    map.insert("op".into(), json!(op));
                    if rng.chance(35) {
                        map.remove("value");
                        map.insert("param".into(), json!("tp"));
                        made.1 += 1;
                    } else {
                        map.insert("value".into(), json!(value));
                    }
                    made.0 += 1;
                }
                for (name, child) in map.iter_mut() {
                    if ["all", "any", "not", "of", "condition", "levels"].contains(&name.as_str()) {
                        walk(child, rng, made);
                    }
                }
            }
            J::Array(items) => items.iter_mut().for_each(|i| walk(i, rng, made)),
            _ => {}
        }
    }
    let mut made = (0, 0);
    for seed in 0..160u64 {
        let mut g = generate(seed, 2 + (seed % 9) as usize, false);
        let mut rng = Rng(seed ^ 0x7e47);
        g.rules.iter_mut().for_each(|r| walk(r, &mut rng, &mut made));
        for (name, file) in &mut g.fixed_files {
            if name == "vocabulary.json" {
                if let Some(J::Array(keys)) = file.get_mut("keys") {
                    keys.push(json!({"key": "t0", "type": "text", "description": "t"}));
                }
            }
            if name == "parameters.json" {
                if let Some(J::Array(params)) = file.get_mut("parameters") {
                    params.push(json!({"name": "tp", "type": "text", "default": "yes", "rationale": "r"}));
                }
            }
        }
        let pack = load(&g, 1, &mut Rng(seed), false);
        let mut json = evidence_json(seed, 10 + (seed % 40) as usize);
        if let Some(J::Array(list)) = json.get_mut("observations") {
            let mut days = Vec::new();
            for i in 0..rng.below(6) {
                // One observation a day: two of one day would need a correction's date.
                let day = rng.below(DAYS as usize) as i64;
                if days.contains(&day) {
                    continue;
                }
                days.push(day);
                let date = base() + chrono::Duration::days(day);
                let value = ["yes", "no"][rng.below(2)];
                list.push(json!({
                    "id": format!("t{i}"), "key": "t0", "value": value,
                    "date": date.format("%Y-%m-%d").to_string(),
                    "source": {"document": "d", "passage": "p"}
                }));
            }
        }
        let ev = evidence(&pack, &json);
        let prepared = crate::derived::prepare(&pack, &ev);
        let read = prepared.as_ref().map_or(&ev, |p| &p.evidence);
        let indexed = crate::program::Indexed::new(&pack, &ev);
        let mut out = crate::program::Outcomes::new();
        let d = (seed as i64 * 29) % DAYS;
        let as_of = base() + chrono::Duration::days(d);
        let options = Options::new(as_of);
        let interpreted = crate::assess::Engine::new(&pack, read, &options).outcomes_interpreted();
        for _ in 0..3 {
            indexed.outcomes_into(&options, &mut out);
            assert_eq!(out.to_vecs(), interpreted, "seed {seed}, day {d}");
        }
        assert_eq!(
            interpreted,
            crate::reference::outcomes(&pack, &ev, as_of),
            "seed {seed}"
        );
        // A what-if whose change touches nothing: every outcome is the base's, kept in force.
        let mut whatif = crate::program::WhatIf::new(&indexed, &options);
        assert_eq!(whatif.base().to_vecs(), interpreted, "seed {seed}");
        let change = crate::whatif::Change::Param {
            name: "p0".into(),
            value: json!(5),
        };
        assert!(whatif.outcomes_into(&[change], "s", &mut out).is_ok());
        assert_eq!(out.to_vecs(), interpreted, "seed {seed}");
    }
    assert!(
        made.0 > 60 && made.1 > 15,
        "{} text comparisons made, {} with a parameter",
        made.0,
        made.1
    );
}

/// Leaves pinned to a function (falling back to the council's series or not) and leaves with
/// two age limits are decided over the values in force as the tree interpreter and the
/// reference evaluator decide them, with `w0` at its default and moved past `n2`'s maximum age.
#[test]
fn pinned_and_doubly_limited_leaves_agree_with_the_interpreter() {
    let (mut pinned, mut limited) = (0, 0);
    for seed in 0..240u64 {
        let mut g = generate(seed, 2 + (seed % 9) as usize, false);
        with_pins(&mut g.rules, seed);
        let text = serde_json::to_string(&g.rules).unwrap_or_default();
        pinned += usize::from(text.contains("\"function\":\"f"));
        limited += usize::from(text.contains("\"within_days\""));
        let pack = load(&g, 1, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, 20 + (seed % 50) as usize));
        let prepared = crate::derived::prepare(&pack, &ev);
        let read = prepared.as_ref().map_or(&ev, |p| &p.evidence);
        let indexed = crate::program::Indexed::new(&pack, &ev);
        let mut out = crate::program::Outcomes::new();
        for d in [(seed as i64 * 53) % DAYS, DAYS - 1, (seed as i64 * 53) % DAYS] {
            let as_of = base() + chrono::Duration::days(d);
            for w0 in [None, Some("200")] {
                let mut options = Options::new(as_of);
                if let Some(w0) = w0 {
                    assert!(options.set_parameter(&pack, "w0", w0).is_ok());
                }
                let interpreted = crate::assess::Engine::new(&pack, read, &options).outcomes_interpreted();
                indexed.outcomes_into(&options, &mut out);
                assert_eq!(out.to_vecs(), interpreted, "seed {seed}, day {d}, w0 {w0:?}");
                if w0.is_none() {
                    assert_eq!(
                        interpreted,
                        crate::reference::outcomes(&pack, &ev, as_of),
                        "seed {seed}"
                    );
                }
            }
        }
    }
    assert!(
        pinned > 60 && limited > 60,
        "{pinned} packs pinned, {limited} limited"
    );
}

/// A change to an input of a derived key that rules read reaches those rules: the what-if
/// re-derives it (by taking the full path) rather than overlaying the input alone.
#[test]
fn whatif_on_a_derived_keys_input_reaches_the_rules_reading_it() {
    let mut checked = 0;
    for seed in (0..384u64).step_by(3) {
        let mut g = generate(seed, 1 + (seed % 7) as usize, false);
        with_derived(&mut g.rules, seed);
        let pack = load(&g, 1, &mut Rng(seed), false);
        let ev = evidence(&pack, &evidence_json(seed, (seed % 40) as usize));
        let options = Options::new(base() + chrono::Duration::days((seed as i64 * 37) % DAYS));
        let indexed = crate::program::Indexed::new(&pack, &ev);
        let mut whatif = crate::program::WhatIf::new(&indexed, &options);
        let mut out = crate::program::Outcomes::new();
        // Derived values exist on the days all their inputs are observed: the days the
        // evidence observes some input, and the as-of date.
        let mut days: Vec<Option<NaiveDate>> = vec![None];
        days.extend(
            ev.observations
                .iter()
                .filter(|o| NUMBER_KEYS.iter().any(|(k, _)| *k == o.key))
                .map(|o| Some(o.date)),
        );
        days.dedup();
        for (key, _) in NUMBER_KEYS {
            for (value, date) in [0.0, 2.5, 7.5, 40.0]
                .into_iter()
                .flat_map(|v| days.iter().map(move |d| (v, *d)))
            {
                let changes = [crate::whatif::Change::Set {
                    key: key.into(),
                    function: None,
                    value: json!(value),
                    date,
                }];
                let Ok(applied) =
                    crate::whatif::apply(&pack, &ev, options.as_of, &options.parameters, &changes, "s")
                else {
                    continue;
                };
                assert!(whatif.outcomes_into(&changes, "s", &mut out).is_ok());
                assert_eq!(
                    out.to_vecs(),
                    outcomes(&pack, &applied.evidence, &options),
                    "{key} = {value} on {date:?}, seed {seed}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked} changes checked");
}

/// Seeds a wider run (3,000 packs) found `needs` offering nothing where one change meets the
/// target: a bound and a value to avoid on one key (`< 9` and `!= 8.75`; `>= high` and
/// `!= low`), and a sustained window already held before the as-of date's value, which the
/// change supersedes; and (in a run of 20,000) an upper and a lower bound leaving one level
/// (`< mid` and `>= low`). `tests/needs.rs` holds each shape by hand.
#[test]
fn regression_needs_finds_single_changes() {
    for (seed, rules, obs, day) in [
        (456, 2, 32, 328),
        (2798, 5, 26, 274),
        (2984, 3, 8, 192),
        (5_638_442_862_997_191_383, 2, 0, 200),
    ] {
        needs_is_sound_and_finds_single_changes(seed, rules, obs, day).unwrap();
    }
}
