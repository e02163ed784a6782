// What each fuzz target does with its input, shared by the fuzz targets (`fuzz_targets/*.rs`, run
// by cargo-fuzz under a sanitizer) and by `crates/handback/tests/fuzz_replay.rs`, which replays
// every committed corpus and regression input through these same functions in a plain
// `cargo test`. A harness returns normally on any input the library refuses; it panics only
// where an invariant breaks (which is the finding).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::OnceLock;

use handback::{Pack, SourceFile};

/// What a target does with one input.
pub type Harness = fn(&[u8]);

/// The targets, each with its harness: the names of the folders under `corpus/` and
/// `regressions/`.
pub const TARGETS: &[(&str, Harness)] = &[
    ("pack", pack_files),
    ("evidence", evidence),
    ("assess", assess),
    ("scenario", scenario),
    ("directions", directions),
    ("decisions", decisions),
    ("verify", verify),
    ("sheets", sheets),
    ("api", api),
    ("http", http),
    ("differential", differential),
];

/// The embedded pack, loaded once per process, so runs spend their time on the input.
pub fn pack() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| handback::default_pack().expect("the embedded pack loads"))
}

pub fn file(name: &str, data: &[u8]) -> SourceFile {
    SourceFile {
        name: name.into(),
        label: name.into(),
        text: String::from_utf8_lossy(data).into_owned(),
    }
}

pub fn as_of() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2018, 3, 21).expect("a date")
}

/// The first byte picks one of the embedded pack's files; the rest replaces it.
pub fn pack_files(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut files = handback::default_pack_files();
    let i = usize::from(pick) % files.len();
    files[i].text = String::from_utf8_lossy(rest).into_owned();
    if let Ok(pack) = handback::Pack::load(&files) {
        let record = file(
            "record.json",
            include_bytes!("../fixtures/rotherham/2018-03-exit-recommended.json"),
        );
        if let Ok(evidence) = handback::Evidence::load(&pack, &record) {
            let assessment = handback::assess(&pack, &evidence, &handback::Options::new(as_of()));
            let _ = handback::plan(&pack, &assessment, None);
        }
    }
}

/// Any bytes as an evidence file for the embedded pack.
pub fn evidence(data: &[u8]) {
    let _ = handback::Evidence::load(pack(), &file("e.json", data));
}

/// Evidence that loads is assessed, planned, compared with itself, explored (`needs`) and drawn.
pub fn assess(data: &[u8]) {
    let pack = pack();
    let Ok(evidence) = handback::Evidence::load(pack, &file("e.json", data)) else {
        return;
    };
    let as_of = evidence.as_of().or(evidence.latest_date()).unwrap_or_else(as_of);
    let mut options = handback::Options::new(as_of);
    options.known_at = evidence.latest_date();
    let assessment = handback::assess(pack, &evidence, &options);
    let plan = handback::plan(pack, &assessment, None);
    assert!(handback::diff(pack, &assessment, &assessment, Some((&plan, &plan))).is_empty());
    // What it would take: for one function (picked by the input's length), and one input in
    // eight for the exit, whose search over every function is the slowest thing this target does
    // (run for every input, it held the target to about 30 inputs a second).
    let functions = pack.functions();
    let target = if data.len().is_multiple_of(8) || functions.is_empty() {
        handback::Target::Exit { outcome: None }
    } else {
        handback::Target::Function {
            function: functions[data.len() % functions.len()].id.clone(),
        }
    };
    let _ = handback::needs(pack, &evidence, &options, None, &target);
    let _ = handback::graph::svg(pack, Some(&plan), "fuzz");
}

/// The August 2016 record, loaded once per process.
pub fn august_2016() -> &'static handback::Evidence {
    static EVIDENCE: OnceLock<handback::Evidence> = OnceLock::new();
    EVIDENCE.get_or_init(|| {
        let base = file(
            "e.json",
            include_bytes!("../fixtures/rotherham/2016-08-progress-letter.json"),
        );
        handback::Evidence::load(pack(), &base).expect("the fixture loads")
    })
}

/// The Rotherham Directions, loaded once per process.
pub fn rotherham_directions() -> &'static handback::Directions {
    static DIRECTIONS: OnceLock<handback::Directions> = OnceLock::new();
    DIRECTIONS.get_or_init(|| {
        let directions = file(
            "directions.json",
            include_bytes!("../fixtures/rotherham/directions.json"),
        );
        handback::Directions::load(pack(), &directions).expect("the fixture loads")
    })
}

/// A scenario applied to the August 2016 record.
pub fn scenario(data: &[u8]) {
    let Ok(scenario) = handback::Scenario::load(&file("s.json", data)) else {
        return;
    };
    let pack = pack();
    let _ = handback::apply(
        pack,
        august_2016(),
        as_of(),
        &Default::default(),
        &scenario.changes,
        "fuzz",
    );
}

/// Directions, and the grid on every instrument's day.
pub fn directions(data: &[u8]) {
    let pack = pack();
    if let Ok(d) = handback::Directions::load(pack, &file("d.json", data)) {
        for i in d.instruments() {
            let _ = d.grid(pack, i.date);
        }
    }
}

/// A decision log audited against the Rotherham Directions; the same bytes as a meeting calendar.
pub fn decisions(data: &[u8]) {
    let pack = pack();
    let _ = handback::audit::load_meetings(&file("m.csv", data));
    let Ok(decisions) = handback::audit::load_decisions(pack, &file("d.csv", data)) else {
        return;
    };
    let _ = handback::audit::audit(rotherham_directions(), &decisions);
}

/// Any bytes as a report to verify.
pub fn verify(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = handback::verify(&handback::VerifyInputs {
        report: &text,
        pack: pack(),
        evidence: None,
        directions: None,
        key: None,
    });
}

/// CSV and XLSX bytes: what imports must export and re-import to the same observations.
pub fn sheets(data: &[u8]) {
    use handback::spreadsheet;
    let pack = pack();
    let limits = handback::Limits::default();
    let about = spreadsheet::About {
        council: "c".into(),
        ..Default::default()
    };
    if let Ok(table) = spreadsheet::read_csv("f.csv", data, limits) {
        if let Ok(evidence) = spreadsheet::evidence_from_table(pack, &table, &about, limits) {
            let csv = spreadsheet::evidence_to_csv(&evidence);
            let again = spreadsheet::read_csv("again.csv", csv.as_bytes(), limits).expect("an export reads");
            let back =
                spreadsheet::evidence_from_table(pack, &again, &about, limits).expect("an export imports");
            assert_eq!(
                back.canonical()["observations"],
                evidence.canonical()["observations"]
            );
        }
    }
    if let Ok(table) = spreadsheet::read_xlsx("f.xlsx", data, None, limits) {
        let _ = spreadsheet::evidence_from_table(pack, &table, &about, limits);
    }
    let _ = spreadsheet::read_about("f.xlsx", data, limits);
}

/// One line of `handback api`: always answered, with one JSON object that says whether it was
/// answered, echoing the id when the request had one.
pub fn api(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    let limits = handback::Limits {
        max_input_bytes: 1 << 20,
        ..Default::default()
    };
    let answer = handback::request::handle_line(&line, limits);
    let value: serde_json::Value = serde_json::from_str(&answer).expect("every answer is JSON");
    assert!(value["ok"].is_boolean(), "{answer}");
    assert_eq!(value["ok"] == true, value.get("result").is_some(), "{answer}");
}

/// A body POSTed to the workbench's `/api`, answered as `handback serve` answers it, without a
/// network. The server's handler (`crates/handback-cli/src/serve.rs`, `api`) refuses a body
/// that is not UTF-8, then calls `api::respond` in the CLI crate, which is
/// `request::parse_request` and `request::handle_with_limits` inside `catch_unwind`, and picks
/// the HTTP status from the typed response. The CLI crate is a binary the fuzz crate cannot
/// link, so this calls the same two library functions the same way, without the
/// `catch_unwind`: a panic, which the server would turn into a 500, is the finding. Unlike a
/// line of `handback api`, a body may span lines.
pub fn http(data: &[u8]) {
    use handback::request::{self, RequestError, Response};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = handback::Limits {
        max_input_bytes: 1 << 20,
        ..Default::default()
    };
    let (op, response) = match request::parse_request(text, limits) {
        Ok(r) => (Some(r.operation.name()), request::handle_with_limits(&r, limits)),
        Err((id, error)) => (
            None,
            Response {
                api_version: request::API_VERSION,
                id,
                ok: false,
                result: None,
                error: Some(error),
            },
        ),
    };
    // `ok` exactly when there is a result and no error: the server's status (200, or 400, 422,
    // 500 by the error's kind) says the same as the body.
    assert_eq!(response.ok, response.result.is_some(), "{response:?}");
    assert_eq!(response.ok, response.error.is_none(), "{response:?}");
    // An internal error is a bug in the engine, whatever the request.
    assert!(
        !matches!(response.error, Some(RequestError::Internal { .. })),
        "{response:?}"
    );
    // The body sent back is one line of JSON a typed client reads back as the same response.
    let line = serde_json::to_string(&response).expect("every response is written");
    assert!(!line.contains('\n'));
    if let Some(op) = op {
        let back = Response::from_json(op, &line).expect("a client reads the response back");
        assert_eq!(back.ok, response.ok);
        assert_eq!(back.id, response.id);
    }
}

// ---------------------------------------------------------------------------------------------
// The differential target: random small packs, evidence, dates and scenarios, drawn from the
// input with `arbitrary` (so the fuzzer mutates choices in the rule language, not JSON syntax),
// written out as JSON text and loaded through the real loaders (what they refuse is skipped).
// Every evaluator the project has must agree, and every `needs` option must meet its target.
// The shapes follow `crates/handback/src/properties.rs`.
// ---------------------------------------------------------------------------------------------

use serde_json::{json, Value as J};

/// The choices a generated case is made of, read from the fuzzer's bytes. Past their end every
/// draw is the smallest choice, so short inputs are small cases.
struct Draw<'a>(arbitrary::Unstructured<'a>);

impl Draw<'_> {
    /// A number below `n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        self.0.int_in_range(0..=n - 1).unwrap_or(0)
    }
    fn chance(&mut self, percent: u8) -> bool {
        self.0.ratio(percent, 100u8).unwrap_or(false)
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    /// Quarters from 0 to 9.75: thresholds and values as often fractional as whole.
    fn quarter(&mut self) -> f64 {
        self.below(40) as f64 / 4.0
    }
}

const NUMBER_KEYS: [(&str, &str); 3] = [
    ("n0", "higher_is_better"),
    ("n1", "lower_is_better"),
    ("n2", "higher_is_better"),
];
const DERIVED_KEYS: [&str; 4] = ["d0", "d1", "d2", "d3"];
const BOOL_KEYS: [&str; 2] = ["b0", "b1"];
const LEVELS: [&str; 3] = ["low", "mid", "high"];
const FUNCTIONS: [&str; 2] = ["fa", "fb"];
/// Observations and dates fall in the 400 days from 2016-01-01.
const DAYS: usize = 400;

fn day(n: usize) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2016, 1, 1).expect("a date") + chrono::Duration::days(n as i64)
}

fn day_text(n: usize) -> String {
    day(n).format("%Y-%m-%d").to_string()
}

/// The fixed files of every generated pack: three number keys, two booleans, a grade, a
/// per-function number, four derived keys (one read by another), three parameters, two functions.
fn fixed_pack_files() -> Vec<(&'static str, J)> {
    let mut keys: Vec<J> = NUMBER_KEYS
        .iter()
        .map(|(k, dir)| {
            let mut key =
                json!({"key": k, "type": "number", "unit": "u", "direction": dir, "description": "n"});
            if *k == "n2" {
                key["max_age_days"] = json!(120);
            }
            key
        })
        .collect();
    for k in BOOL_KEYS {
        keys.push(json!({"key": k, "type": "boolean", "description": "b"}));
    }
    keys.push(json!({"key": "g0", "type": "grade", "scale": "s", "description": "g"}));
    keys.push(json!({"key": "f0", "type": "number", "unit": "u", "direction": "lower_is_better", "scope": "function", "description": "f"}));
    for (k, dir, formula) in [
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
    ] {
        keys.push(json!({"key": k, "type": "number", "unit": "u", "direction": dir, "derived": formula, "description": "d"}));
    }
    vec![
        (
            "pack.json",
            json!({"id": "gen", "version": "1", "title": "generated"}),
        ),
        (
            "vocabulary.json",
            json!({"scales": [{"id": "s", "title": "s", "levels": LEVELS}], "keys": keys}),
        ),
        (
            "parameters.json",
            json!({"parameters": [
                {"name": "p0", "type": "number", "unit": "u", "direction": "higher_is_better", "default": 5, "rationale": "r"},
                {"name": "w0", "type": "number", "unit": "days", "direction": "higher_is_better", "default": 90, "rationale": "a window"},
                {"name": "c0", "type": "number", "unit": "count", "direction": "higher_is_better", "default": 2, "rationale": "a count"}
            ]}),
        ),
        (
            "functions.json",
            json!({"functions": FUNCTIONS.iter().map(|f| json!({"id": f, "title": f})).collect::<Vec<_>>()}),
        ),
    ]
}

/// An earlier rule a condition may refer to: its id, whether per function, whether graded.
type Earlier = (String, bool, bool);

struct Generator<'d, 'a> {
    draw: &'d mut Draw<'a>,
    /// Whether some leaf reads `f0` falling back to a council-wide value (which evidence may
    /// then hold).
    fallback: bool,
}

impl Generator<'_, '_> {
    fn window(&mut self, base: usize, spread: usize) -> J {
        if self.draw.chance(15) {
            json!({"param": "w0"})
        } else {
            json!(base + self.draw.below(spread))
        }
    }

    fn op(&mut self) -> &'static str {
        self.draw.pick(&["<", "<=", ">", ">=", "==", "!="])
    }

    fn number_key(&mut self) -> &'static str {
        if self.draw.chance(20) {
            self.draw.pick(&DERIVED_KEYS)
        } else {
            self.draw.pick(&NUMBER_KEYS).0
        }
    }

    /// A threshold in the range of `key`'s values.
    fn threshold(&mut self, key: &str) -> f64 {
        let q = self.draw.quarter();
        match key {
            "d0" => q * 40.0,
            "d3" => q * 40.0 - 100.0,
            "d1" | "d2" => q * 2.0 - 10.0,
            _ => q,
        }
    }

    fn leaf(&mut self, per_function: bool) -> J {
        let mut l = match self.draw.below(if per_function { 9 } else { 8 }) {
            0 => {
                let k = self.number_key();
                let mut l = json!({"key": k, "op": self.op()});
                if k == "n0" && self.draw.chance(30) {
                    l["param"] = json!("p0");
                } else {
                    l["value"] = json!(self.threshold(k));
                }
                if self.draw.chance(20) {
                    l["sustained_days"] = self.window(30, 150);
                }
                l
            }
            1 => {
                let trend = self.draw.pick(&["improving", "not_worsening"]);
                let mut l =
                    json!({"key": self.number_key(), "trend": trend, "window_days": self.window(30, 200)});
                if trend == "improving" && self.draw.chance(40) {
                    if self.draw.chance(50) {
                        l["by_at_least"] = json!(0.25 + self.draw.quarter() / 2.0);
                    } else {
                        l["by_at_least_percent"] = json!(1 + self.draw.below(60));
                    }
                }
                l
            }
            2 => {
                json!({"key": self.draw.pick(&BOOL_KEYS), "op": self.draw.pick(&["==", "!="]), "value": self.draw.chance(70)})
            }
            3 => {
                let op = self.draw.pick(&["<", "<=", ">", ">=", "==", "!="]);
                json!({"key": "g0", "op": op, "value": self.draw.pick(&LEVELS)})
            }
            4 => {
                let k = self.draw.pick(&["b0", "b1", "n0", "g0", "d1"]);
                json!({"key": k, "present": self.draw.chance(80)})
            }
            5 => {
                let mut l = if self.draw.chance(30) {
                    json!({"key": self.draw.pick(&BOOL_KEYS), "op": "==", "value": true})
                } else {
                    let k = self.draw.pick(&NUMBER_KEYS).0;
                    json!({"key": k, "op": self.op(), "value": self.draw.quarter()})
                };
                let at_least = if self.draw.chance(20) {
                    json!({"param": "c0"})
                } else {
                    json!(1 + self.draw.below(3))
                };
                l["count"] = json!({"at_least": at_least, "within_days": self.window(20, 200)});
                if self.draw.chance(40) {
                    l["count"]["consecutive"] = json!(true);
                }
                l
            }
            6 => {
                let a = self.draw.pick(&NUMBER_KEYS).0;
                let b = self.draw.pick(&NUMBER_KEYS).0;
                let mut l = json!({"key": a, "op": self.op(), "against": {"key": b}});
                if self.draw.chance(30) {
                    l["against"]["same_date"] = json!(true);
                }
                l
            }
            7 => {
                let event = if self.draw.chance(50) {
                    json!({"key": self.draw.pick(&BOOL_KEYS), "op": "==", "value": self.draw.chance(70)})
                } else {
                    let k = self.draw.pick(&NUMBER_KEYS).0;
                    json!({"key": k, "op": self.op(), "value": self.draw.quarter()})
                };
                let bound = self.draw.pick(&["at_most", "at_least"]);
                let mut l = json!({"days_since": event});
                l[bound] = self.window(5, 200);
                if self.draw.chance(30) {
                    l["before"] = json!({"key": self.draw.pick(&BOOL_KEYS), "op": "==", "value": true});
                }
                l
            }
            _ => {
                let mut l = json!({"key": "f0", "op": self.op(), "value": self.draw.quarter()});
                if self.draw.chance(30) {
                    l["fallback_to_council"] = json!(true);
                    self.fallback = true;
                }
                l
            }
        };
        if self.draw.chance(10) {
            l["within_days"] = self.window(60, 200);
        }
        l
    }

    fn condition(&mut self, depth: u32, earlier: &[Earlier], per_function: bool) -> J {
        let choice = if depth == 0 { 5 } else { self.draw.below(8) };
        let kids = |g: &mut Self| -> Vec<J> {
            let n = 1 + g.draw.below(3);
            (0..n)
                .map(|_| g.condition(depth.saturating_sub(1), earlier, per_function))
                .collect()
        };
        match choice {
            0 => json!({"all": kids(self)}),
            1 => json!({"any": kids(self)}),
            2 => {
                let of = kids(self);
                let k = 1 + self.draw.below(of.len());
                json!({"at_least": k, "of": of})
            }
            3 => json!({"not": self.condition(depth.saturating_sub(1), earlier, per_function)}),
            4 if !earlier.is_empty() => {
                let (id, pf, graded) = &earlier[self.draw.below(earlier.len())];
                let mut r = json!({"rule": id});
                if *pf && !per_function {
                    r["function"] = json!(self.draw.pick(&FUNCTIONS));
                }
                if *graded {
                    r["at_least"] = json!(self.draw.pick(&LEVELS));
                }
                r
            }
            _ => self.leaf(per_function),
        }
    }

    /// A few rules, each possibly per function, graded, or referring to earlier ones.
    fn rules(&mut self) -> Vec<J> {
        let mut rules = Vec::new();
        let mut earlier: Vec<Earlier> = Vec::new();
        for i in 0..1 + self.draw.below(5) {
            let id = format!("r{i}");
            let per_function = self.draw.chance(30);
            let graded = self.draw.chance(25);
            let mut rule =
                json!({"id": id, "title": "t", "quote": "q", "citation": {"source": "s", "at": "a"}});
            if per_function {
                rule["per_function"] = json!(true);
            }
            if graded {
                rule["kind"] = json!("graded");
                rule["scale"] = json!("s");
                rule["levels"] = json!([
                    {"level": "high", "condition": self.condition(2, &earlier, per_function)},
                    {"level": "mid", "condition": self.condition(2, &earlier, per_function)},
                    {"level": "low"}
                ]);
            } else {
                rule["kind"] = json!("test");
                rule["condition"] = self.condition(3, &earlier, per_function);
            }
            earlier.push((id, per_function, graded));
            rules.push(rule);
        }
        rules
    }

    fn value(&mut self, key: &str) -> J {
        match key {
            "b0" | "b1" => json!(self.draw.chance(50)),
            "g0" => json!(self.draw.pick(&LEVELS)),
            _ if self.draw.chance(8) => json!(0.0),
            _ => json!(self.draw.quarter()),
        }
    }

    /// Dated and period observations, some recorded late, some corrected by a later record,
    /// some on the same day as another number key (so derived keys have values).
    fn evidence(&mut self) -> J {
        let mut seen = std::collections::BTreeSet::new();
        let mut obs = Vec::new();
        for i in 0..self.draw.below(24) {
            let d = self.draw.below(DAYS);
            let (key, function) = match self.draw.below(6) {
                0..=2 => (self.draw.pick(&NUMBER_KEYS).0, None),
                3 => (self.draw.pick(&BOOL_KEYS), None),
                4 => ("g0", None),
                _ if self.fallback && self.draw.chance(30) => ("f0", None),
                _ => ("f0", Some(self.draw.pick(&FUNCTIONS))),
            };
            if !seen.insert((key, function, d)) {
                continue;
            }
            let mut o = json!({"id": format!("o{i}"), "key": key, "value": self.value(key),
                               "source": {"document": "d", "passage": "p"}});
            if self.draw.chance(15) {
                o["period"] =
                    json!({"from": day_text(d.saturating_sub(self.draw.below(90))), "to": day_text(d)});
            } else {
                o["date"] = json!(day_text(d));
            }
            let mut recorded = d;
            if self.draw.chance(15) {
                recorded = d + self.draw.below(30);
                o["recorded"] = json!(day_text(recorded));
            }
            if let Some(f) = function {
                o["function"] = json!(f);
            }
            if self.draw.chance(10) {
                let mut c = o.clone();
                c["id"] = json!(format!("o{i}c"));
                c["value"] = self.value(key);
                c["recorded"] = json!(day_text(recorded + 1 + self.draw.below(30)));
                obs.push(c);
            }
            // A sibling number key on the same day, so a ratio or difference has both inputs.
            if function.is_none() && NUMBER_KEYS.iter().any(|(k, _)| *k == key) && self.draw.chance(50) {
                let sibling = self.draw.pick(&NUMBER_KEYS).0;
                if seen.insert((sibling, None, d)) {
                    let mut s = o.clone();
                    s["id"] = json!(format!("o{i}s"));
                    s["key"] = json!(sibling);
                    s["value"] = self.value(sibling);
                    obs.push(s);
                }
            }
            obs.push(o);
        }
        json!({"council": "c", "observations": obs})
    }

    /// A what-if scenario: values set (sometimes out of the key's type, which `apply` refuses),
    /// observations removed, a parameter overridden, the date moved.
    fn scenario(&mut self) -> J {
        let mut changes = Vec::new();
        for _ in 0..1 + self.draw.below(4) {
            let change = match self.draw.below(8) {
                0..=3 => {
                    let key = self.draw.pick(&["n0", "n1", "n2", "b0", "b1", "g0", "f0"]);
                    let mut set = json!({"key": key, "value": self.value(key)});
                    if key == "f0" && !(self.fallback && self.draw.chance(30)) {
                        set["function"] = json!(self.draw.pick(&FUNCTIONS));
                    }
                    if self.draw.chance(60) {
                        set["date"] = json!(day_text(self.draw.below(DAYS)));
                    }
                    json!({"set": set})
                }
                4 | 5 => json!({"remove": format!("o{}", self.draw.below(24))}),
                6 => {
                    let (name, value) = match self.draw.below(3) {
                        0 => ("p0", json!(self.draw.quarter())),
                        1 => ("w0", json!(1 + self.draw.below(200))),
                        _ => ("c0", json!(1 + self.draw.below(4))),
                    };
                    json!({"param": {"name": name, "value": value}})
                }
                _ => json!({"as_of": day_text(self.draw.below(DAYS))}),
            };
            changes.push(change);
        }
        json!({"title": "fuzz", "changes": changes})
    }
}

/// Each (rule, function) outcome as `assess` names it: the verdict's word, and for an unknown
/// grade the level known to hold.
fn named(
    pack: &Pack,
    outcomes: &[Vec<handback::bulk::Outcome>],
) -> Vec<(String, Option<String>, String, Option<String>)> {
    use handback::bulk::Outcome;
    use handback::Truth;
    let levels = &pack.scales()[0].levels;
    let mut out = Vec::new();
    for (rule, subjects) in pack.rules().iter().zip(outcomes) {
        for (i, outcome) in subjects.iter().enumerate() {
            let function = rule.per_function.then(|| pack.functions()[i].id.clone());
            let (verdict, at_least) = match outcome {
                Outcome::Test(Truth::Met) => ("met".to_string(), None),
                Outcome::Test(Truth::NotMet) => ("not_met".to_string(), None),
                Outcome::Test(Truth::Unknown) => ("unknown".to_string(), None),
                Outcome::Graded { level: Some(l), .. } => (levels[*l].clone(), None),
                // `assess` does not name the floor ("at least low" says nothing): every
                // generated rule's floor is `low`, rank 0.
                Outcome::Graded {
                    level: None,
                    at_least,
                } => (
                    "unknown".to_string(),
                    at_least.filter(|&l| l != 0).map(|l| levels[l].clone()),
                ),
            };
            out.push((rule.id.clone(), function, verdict, at_least));
        }
    }
    out.sort();
    out
}

/// The compiled bulk outcomes, the explained assessment's and (when no parameter is overridden:
/// it reads the defaults only) the reference evaluator's agree.
fn agree(pack: &Pack, evidence: &handback::Evidence, options: &handback::Options, what: &str) {
    let bulk = handback::bulk::outcomes(pack, evidence, options);
    let mut explained = options.clone();
    explained.explain = true;
    let assessment = handback::assess(pack, evidence, &explained);
    let mut from_assessment: Vec<_> = assessment
        .results
        .iter()
        .map(|r| {
            (
                r.rule.clone(),
                r.function.clone(),
                r.outcome.code().to_string(),
                r.at_least.clone(),
            )
        })
        .collect();
    from_assessment.sort();
    assert_eq!(
        named(pack, &bulk),
        from_assessment,
        "{what}: bulk and explained outcomes differ"
    );
    if options.parameters.is_empty() && options.exclude_basis.is_empty() {
        let known = options.known_at.map(|k| evidence.known_at(k).0);
        let reference = handback::oracle::outcomes(pack, known.as_ref().unwrap_or(evidence), options.as_of);
        assert_eq!(bulk, reference, "{what}: bulk and reference outcomes differ");
    }
}

/// Random small packs, evidence, dates and a scenario: every evaluator agrees, and every option
/// `needs` offers meets its target when applied and assessed again.
pub fn differential(data: &[u8]) {
    let mut draw = Draw(arbitrary::Unstructured::new(data));
    let mut g = Generator {
        draw: &mut draw,
        fallback: false,
    };
    let rules = g.rules();
    let evidence_json = g.evidence();
    let as_of = g.draw.below(DAYS);
    let known_at = g.draw.chance(20).then(|| g.draw.below(DAYS));
    let scenario_json = g.draw.chance(50).then(|| g.scenario());
    let targets: Vec<usize> = (0..g.draw.below(3)).map(|_| g.draw.below(64)).collect();

    let mut files: Vec<SourceFile> = fixed_pack_files()
        .into_iter()
        .map(|(name, json)| file(name, json.to_string().as_bytes()))
        .collect();
    files.push(file(
        "rules/r.json",
        json!({"rules": rules}).to_string().as_bytes(),
    ));
    let Ok(pack) = Pack::load(&files) else {
        return;
    };
    let Ok(evidence) = handback::Evidence::load(&pack, &file("e.json", evidence_json.to_string().as_bytes()))
    else {
        return;
    };
    let mut options = handback::Options::new(day(as_of));
    options.known_at = known_at.map(day);
    agree(&pack, &evidence, &options, "the evidence");

    if let Some(s) = scenario_json {
        let scenario = handback::Scenario::load(&file("s.json", s.to_string().as_bytes()));
        if let Some(Ok(applied)) = scenario.ok().map(|scenario| {
            handback::apply(
                &pack,
                &evidence,
                day(as_of),
                &Default::default(),
                &scenario.changes,
                "fuzz",
            )
        }) {
            let mut options = handback::Options::new(applied.as_of);
            options.parameters = applied.parameters;
            agree(&pack, &applied.evidence, &options, "the scenario");
        }
    }

    // Every (rule, function) a `needs` may aim at; the input picks a few.
    let mut all: Vec<handback::Target> = Vec::new();
    for rule in pack.rules() {
        let functions: Vec<Option<String>> = if rule.per_function {
            FUNCTIONS.iter().map(|f| Some(f.to_string())).collect()
        } else {
            vec![None]
        };
        for function in functions {
            all.push(handback::Target::Rule {
                rule: rule.id.clone(),
                function,
            });
        }
    }
    let options = handback::Options::new(day(as_of));
    for t in targets {
        let target = &all[t % all.len()];
        let handback::Target::Rule { rule, function } = target else {
            continue;
        };
        let wanted = match pack.rule(rule).map(handback::model::Rule::kind) {
            Some(handback::RuleKind::Graded) => pack.scales()[0].levels.last().cloned().unwrap_or_default(),
            _ => "met".to_string(),
        };
        let met = |evidence: &handback::Evidence, options: &handback::Options| {
            handback::assess(&pack, evidence, options)
                .results
                .iter()
                .any(|r| &r.rule == rule && &r.function == function && r.outcome.code() == wanted)
        };
        let needs = handback::needs(&pack, &evidence, &options, None, target);
        if needs.met {
            assert!(
                met(&evidence, &options),
                "needs says {target:?} is met, but it is not"
            );
            continue;
        }
        for set in needs.sets.iter().take(4) {
            let mut changes = set.as_changes(day(as_of));
            changes.push(handback::Change::AsOf(set.earliest));
            let applied = handback::apply(
                &pack,
                &evidence,
                day(as_of),
                &Default::default(),
                &changes,
                "needs",
            )
            .unwrap_or_else(|e| {
                panic!(
                    "needs offered {:?} for {target:?}, which does not apply: {e}",
                    set.changes
                )
            });
            let again = handback::Options::new(applied.as_of);
            assert!(
                met(&applied.evidence, &again),
                "needs offered {:?} for {target:?} (earliest {}), which does not meet it",
                set.changes,
                set.earliest
            );
            agree(&pack, &applied.evidence, &again, "a needs option");
        }
    }
}
