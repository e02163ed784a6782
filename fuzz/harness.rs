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

/// Evidence that loads is assessed, planned, compared with itself, explored and drawn.
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
    let _ = handback::needs(
        pack,
        &evidence,
        &options,
        None,
        &handback::Target::Exit { outcome: None },
    );
    let _ = handback::graph::svg(pack, Some(&plan), "fuzz");
}

/// A scenario applied to the August 2016 record.
pub fn scenario(data: &[u8]) {
    let Ok(scenario) = handback::Scenario::load(&file("s.json", data)) else {
        return;
    };
    let pack = pack();
    let base = file(
        "e.json",
        include_bytes!("../fixtures/rotherham/2016-08-progress-letter.json"),
    );
    let evidence = handback::Evidence::load(pack, &base).expect("the fixture loads");
    let _ = handback::apply(
        pack,
        &evidence,
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
    let directions = file(
        "directions.json",
        include_bytes!("../fixtures/rotherham/directions.json"),
    );
    let directions = handback::Directions::load(pack, &directions).expect("the fixture loads");
    let _ = handback::audit::audit(&directions, &decisions);
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
