//! Derived keys and whose judgement counts: what evidence may record, what `needs` offers, and
//! arithmetic that stays finite whatever the inputs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use handback::model::Formula;
use handback::{needs, Evidence, Options, SourceFile, Target};

const PACK: &str = "fixtures/packs/semantics";

fn load(text: &str) -> Result<Evidence, handback::LoadError> {
    let pack = common::load_pack(PACK);
    Evidence::load(
        &pack,
        &SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text: text.into(),
        },
    )
}

/// The pack computes a derived key; a value typed in beside its inputs could disagree with them,
/// so it is refused where it is written, naming the formula and the inputs to record instead.
#[test]
fn evidence_may_not_record_a_derived_key() {
    let error = load(
        r#"{"council": "c", "observations": [
  {"id": "x", "key": "agency_share", "value": 89, "date": "2016-06-01", "source": {"document": "d", "passage": "p"}}
]}"#,
    )
    .unwrap_err();
    let d = &error.diagnostics.0[0];
    assert_eq!(
        (d.line, d.column, d.path.as_str()),
        (2, 22, "$.observations[0].key")
    );
    assert_eq!(
        d.message,
        "key `agency_share` is derived (`agency_posts` / `vacant_posts` × 100): the pack computes it, so record its inputs `agency_posts` and `vacant_posts` instead"
    );
}

/// A role says in what capacity someone judged, so it needs the someone.
#[test]
fn a_role_needs_a_judge() {
    let error = load(
        r#"{"council": "c", "observations": [
  {"id": "x", "key": "practice", "value": "good", "role": "inspectorate", "basis": "document", "date": "2016-06-01", "source": {"document": "d", "passage": "p"}}
]}"#,
    )
    .unwrap_err();
    let messages: Vec<&str> = error.diagnostics.0.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.contains(&"a `role` says in what capacity `judged_by` judged; say who in `judged_by`"),
        "{messages:?}"
    );
}

/// `needs` cannot invert a formula soundly (many input values give one share), so for a rule on
/// a derived key it offers no set, and says which inputs to change, rather than a set that fails.
#[test]
fn needs_offers_nothing_for_a_derived_key_and_says_why() {
    let pack = common::load_pack(PACK);
    let evidence = common::load_evidence(&pack, "fixtures/evidence/semantics-derived.json");
    let options = Options::new(handback::parse_date("2016-07-01").unwrap());
    let target = Target::parse("rule:agency-share").unwrap();
    let n = needs(&pack, &evidence, &options, None, &target);
    assert!(!n.met);
    assert!(n.sets.is_empty(), "{:?}", n.sets);
    assert!(
        n.blocks.iter().any(|b| b.starts_with(
            "`agency_share` is derived (`agency_posts` / `vacant_posts` × 100); needs does not invert a formula"
        )),
        "{:?}",
        n.blocks
    );
}

/// A judgement in a role the key does not accept would be skipped, so `needs` asks for one by
/// an accepted role, and its set (checked by applying it) makes the rule met.
#[test]
fn needs_asks_for_a_judgement_by_an_accepted_role() {
    let pack = common::load_pack(PACK);
    let evidence = common::load_evidence(&pack, "fixtures/evidence/semantics-derived.json");
    let options = Options::new(handback::parse_date("2017-01-01").unwrap());
    let target = Target::parse("rule:practice-outstanding").unwrap();
    let n = needs(&pack, &evidence, &options, None, &target);
    assert!(!n.met);
    let change = &n.sets[0].changes[0];
    assert_eq!(change.key, "practice");
    assert_eq!(change.judged_by_roles, ["inspectorate", "commissioners"]);
    assert_eq!(
        change.needs,
        "== \"outstanding\", judged by `inspectorate` or `commissioners`"
    );
    // The council's own "outstanding" is not the current value the set starts from.
    assert_eq!(
        change.current,
        Some(handback::Value::Grade {
            level: "good".into(),
            rank: 2
        })
    );
}

/// Whatever the inputs, a formula gives a finite number or nothing: never infinity or NaN,
/// which no report could print and no comparison could trust.
#[test]
fn formulas_stay_finite() {
    let ratio = Formula::Ratio {
        numerator: "a".into(),
        denominator: "b".into(),
        scale: 100.0,
    };
    assert_eq!(ratio.apply(&[57.0, 64.0]), Some(89.0625));
    assert_eq!(ratio.apply(&[1.0, 0.0]), None);
    assert_eq!(ratio.apply(&[0.0, 0.0]), None);
    assert_eq!(ratio.apply(&[1e308, 1e-308]), None);
    assert_eq!(
        ratio.arithmetic(&[3.0, 0.0]),
        "3 / 0 × 100 is undefined (division by zero)"
    );
    let sum = Formula::Sum {
        terms: vec!["a".into(), "b".into()],
    };
    assert_eq!(sum.apply(&[0.1, 0.2]), Some(0.3));
    assert_eq!(sum.apply(&[f64::MAX, f64::MAX]), None);
    assert!(sum
        .arithmetic(&[f64::MAX, f64::MAX])
        .ends_with("has no finite value"));
    let change = Formula::PercentChange {
        from: "a".into(),
        to: "b".into(),
    };
    assert_eq!(change.apply(&[200.0, 230.0]), Some(15.0));
    assert_eq!(change.apply(&[0.0, 12.0]), None);
    let difference = Formula::Difference {
        minuend: "a".into(),
        subtrahend: "b".into(),
    };
    assert_eq!(
        difference.apply(&[-0.0, 0.0]).map(|v| v.to_string()),
        Some("0".into())
    );
}

/// A rule on a derived key is monotone only when improving each input improves the derived
/// value. `agency_share` is `agency_posts` / `vacant_posts`: fewer vacant posts (the better way
/// for that key) raise the share, so `agency_share <= 50` gets worse with better evidence (57 of
/// 64 vacancies is 89%; of 60, 95%), and `staffed_posts` (permanent + agency posts) falls when
/// agency posts fall. `overspend` (spend − budget) improves with either input, so stays monotone.
#[test]
fn a_rule_on_a_derived_key_is_monotone_only_when_every_input_helps() {
    let pack = common::load_pack(PACK);
    let monotone = |id: &str| pack.rule(id).unwrap().monotone;
    assert!(!monotone("agency-share"), "agency-share flagged monotone");
    assert!(
        !monotone("agency-share-held"),
        "agency-share-held flagged monotone"
    );
    assert!(!monotone("staffed"), "staffed flagged monotone");
    assert!(!monotone("referrals-steady"), "referrals-steady flagged monotone");
    assert!(monotone("within-budget"));
    // What the flag promises, and the old flag broke: improving an input never makes it worse.
    let evidence = |vacant: u32| {
        load(&format!(
            r#"{{"council": "c", "observations": [
  {{"id": "a", "key": "agency_posts", "value": 57, "date": "2016-06-01", "source": {{"document": "d", "passage": "p"}}}},
  {{"id": "v", "key": "vacant_posts", "value": {vacant}, "date": "2016-06-01", "source": {{"document": "d", "passage": "p"}}}}
]}}"#
        ))
        .unwrap()
    };
    let options = Options::new(chrono::NaiveDate::from_ymd_opt(2016, 7, 1).unwrap());
    let outcome = |vacant: u32| {
        let a = handback::assess(&pack, &evidence(vacant), &options);
        a.results
            .iter()
            .find(|r| r.rule == "agency-share")
            .unwrap()
            .outcome
            .clone()
    };
    // 57 of 120 is 47.5%: met; with fewer vacant posts (better), 57 of 100 is 57%: not met.
    assert_ne!(outcome(120), outcome(100));
}
