//! What a verdict rests on. The weakest basis a verdict reports must be honest: take away every
//! observation weaker than it and the verdict stands; take away what it rests on and a verdict
//! that rested on it alone no longer does.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use handback::{assess, Basis, Evidence, Options};

const MILESTONES: [&str; 8] = [
    "2016-02-first-tranche",
    "2016-08-progress-letter",
    "2016-12-licensing",
    "2017-01-progress-meeting",
    "2017-03-returns",
    "2017-09-revised-directions",
    "2018-02-children-recommended",
    "2018-03-exit-recommended",
];

fn options(evidence: &Evidence, exclude: Vec<Basis>) -> Options {
    let mut o = Options::new(evidence.as_of().unwrap());
    o.explain = false;
    o.exclude_basis = exclude;
    o
}

fn key(r: &handback::RuleResult) -> String {
    match &r.function {
        Some(f) => format!("{}@{f}", r.rule),
        None => r.rule.clone(),
    }
}

#[test]
fn a_verdict_stands_without_anything_weaker_than_its_basis() {
    let pack = handback::default_pack().unwrap();
    let mut checked = 0;
    for m in MILESTONES {
        let evidence = common::load_evidence(&pack, &format!("fixtures/rotherham/{m}.json"));
        let full = assess(&pack, &evidence, &options(&evidence, vec![]));
        for basis in Basis::ALL {
            let weaker: Vec<Basis> = Basis::ALL.into_iter().filter(|b| *b > basis).collect();
            let without = assess(&pack, &evidence, &options(&evidence, weaker));
            for (a, b) in full.results.iter().zip(&without.results) {
                if a.basis == Some(basis) {
                    checked += 1;
                    assert_eq!(
                        a.outcome,
                        b.outcome,
                        "{m}: `{}` rests on {basis} but changes without weaker evidence",
                        key(a)
                    );
                    assert_eq!(a.basis, b.basis, "{m}: `{}`", key(a));
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} verdicts checked");
}

#[test]
fn verdicts_resting_on_a_decision_need_it() {
    // The record's decisions are recommendations; the return gates do not read them, so no
    // verdict should rest on one, and removing them changes no verdict: a recommendation counts
    // only where the planner reads it, as a recommendation.
    let pack = handback::default_pack().unwrap();
    for m in MILESTONES {
        let evidence = common::load_evidence(&pack, &format!("fixtures/rotherham/{m}.json"));
        let full = assess(&pack, &evidence, &options(&evidence, vec![]));
        let without = assess(
            &pack,
            &evidence,
            &options(&evidence, vec![Basis::Decision, Basis::Reconstructed]),
        );
        for (a, b) in full.results.iter().zip(&without.results) {
            assert_ne!(a.basis, Some(Basis::Decision), "{m}: `{}`", key(a));
            assert_eq!(a.outcome, b.outcome, "{m}: `{}`", key(a));
        }
        assert!(full.excluded.is_empty());
    }
}

#[test]
fn excluding_the_deciding_evidence_unsettles_the_verdict() {
    // Children's test 6 fails in August 2016 on a document (the workforce strategy not yet
    // determined): without documents it is no longer known to fail.
    let pack = handback::default_pack().unwrap();
    let evidence = common::load_evidence(&pack, "fixtures/rotherham/2016-08-progress-letter.json");
    let outcome = |exclude: Vec<Basis>| {
        let a = assess(&pack, &evidence, &options(&evidence, exclude));
        let r = a.results.iter().find(|r| r.rule == "children-6").unwrap();
        (r.outcome.clone(), r.basis)
    };
    assert_eq!(
        outcome(vec![]),
        (handback::Verdict::NotMet, Some(Basis::Document))
    );
    let (o, _) = outcome(vec![Basis::Document]);
    assert_ne!(o, handback::Verdict::NotMet);
}

/// A reference asking for "at least" a grade whose exact level is unknown but whose floor holds
/// rests on that floor's evidence: here a reconstruction, which the verdict must own up to (it
/// once reported no basis at all, and the annex left it out).
#[test]
fn a_reference_met_on_a_grade_floor_rests_on_the_floor() {
    let pack = common::load_pack("fixtures/packs/semantics");
    let file = handback::SourceFile {
        name: "g.json".into(),
        label: "g.json".into(),
        text: r#"{"council": "c", "observations": [{"id": "f", "key": "flag", "value": true, "date": "2016-06-01", "basis": "reconstructed", "note": "a test", "source": {"document": "d", "passage": "p"}}]}"#.into(),
    };
    let evidence = Evidence::load(&pack, &file).unwrap();
    let mut o = Options::new(chrono::NaiveDate::from_ymd_opt(2016, 7, 1).unwrap());
    o.explain = false;
    let a = assess(&pack, &evidence, &o);
    let find = |rule: &str| a.results.iter().find(|r| r.rule == rule).unwrap();
    assert_eq!(find("graded").outcome, handback::Verdict::Unknown);
    assert_eq!(find("graded").basis, None, "an unknown verdict rests on nothing");
    assert_eq!(find("graded-ref").outcome, handback::Verdict::Met);
    assert_eq!(find("graded-ref").basis, Some(Basis::Reconstructed));
}
