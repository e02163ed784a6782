//! Input that is never silently wrong: scenario changes and parameter overrides given to the
//! library are checked, not ignored.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use handback::{apply, Change, Evidence, Options, SourceFile};

fn evidence(pack: &handback::Pack, text: &str) -> Evidence {
    let file = SourceFile {
        name: "e.json".into(),
        label: "e.json".into(),
        text: text.into(),
    };
    Evidence::load(pack, &file).unwrap()
}

/// A scenario setting a key on the last day of an observed period replaces that observation,
/// as it replaces a dated one.
#[test]
fn a_scenario_supersedes_an_observation_with_a_period() {
    let pack = handback::default_pack().unwrap();
    let ev = evidence(
        &pack,
        r#"{"council": "R", "observations": [{"id": "q", "key": "children.agency_share", "value": 0.4,
            "period": {"from": "2016-04-01", "to": "2016-06-30"}, "source": {"document": "d", "passage": "p"}}]}"#,
    );
    let day = handback::parse_date("2016-06-30").unwrap();
    let change = Change::Set {
        key: "children.agency_share".into(),
        function: None,
        value: serde_json::json!(0.2),
        date: Some(day),
    };
    let applied = apply(&pack, &ev, day, &Default::default(), &[change], "t").unwrap();
    let ids: Vec<&str> = applied
        .evidence
        .observations()
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(ids, ["scenario-1"]);
}

/// Overrides filled in directly are checked: an unknown parameter, a wrong type and a share out
/// of range are each reported, never silently replaced by the default.
#[test]
fn bad_parameter_overrides_are_errors() {
    let pack = handback::default_pack().unwrap();
    let mut options = Options::new(handback::parse_date("2016-08-11").unwrap());
    assert!(options.check(&pack).is_ok());
    assert!(options
        .set_parameter(&pack, "children_agency_share_max", "25%")
        .is_ok());
    assert_eq!(
        options.parameters["children_agency_share_max"],
        handback::Value::Number(0.25)
    );
    let unknown = options.set_parameter(&pack, "children_agency_share_mx", "0.2");
    assert!(unknown.unwrap_err().contains("unknown parameter"));
    let range = options.set_parameter(&pack, "children_agency_share_max", "25");
    assert!(range.unwrap_err().contains("did you mean 0.25?"));
    options
        .parameters
        .insert("nonsense".into(), handback::Value::Boolean(true));
    options
        .parameters
        .insert("children_agency_share_max".into(), handback::Value::Number(25.0));
    let problems = options.check(&pack).unwrap_err();
    assert_eq!(problems.len(), 2, "{problems:?}");
}

/// A pack folder's `tests/` holds its golden cases: they are not pack data, so they are neither
/// "unexpected files" nor part of the digest a report cites (editing a case must not make every
/// report of the pack fail `verify`).
#[test]
fn a_packs_own_cases_are_not_part_of_the_pack() {
    let files = handback::default_pack_files();
    let plain = handback::Pack::load(&files).unwrap();
    let mut with_cases = files.clone();
    with_cases.push(handback::SourceFile {
        name: "tests/a-case.json".into(),
        label: "tests/a-case.json".into(),
        text: r#"{"description": "d", "evidence": "e.json", "expect": {}}"#.into(),
    });
    let loaded = handback::Pack::load(&with_cases).unwrap();
    assert_eq!(loaded.digests(), plain.digests());
}

/// A graded verdict is the level's name, written where a test's `met`, `not_met` or `unknown`
/// goes: a level named like one would read back as the other, so the pack is refused.
#[test]
fn a_level_cannot_be_named_like_an_outcome() {
    let mut files = handback::default_pack_files();
    let vocabulary = files.iter_mut().find(|f| f.name == "vocabulary.json").unwrap();
    vocabulary.text = vocabulary.text.replacen("\"inadequate\"", "\"unknown\"", 1);
    let Err(e) = handback::Pack::load(&files) else {
        panic!("a level named `unknown` was accepted")
    };
    let text = e.to_string();
    assert!(text.contains("`unknown` is reserved for outcomes"), "{text}");
    assert!(text.contains("vocabulary.json"), "{text}");
}
