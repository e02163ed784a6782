//! The gap report finds what is missing from the rules themselves: the evidence a graded
//! criterion reads, and the other key a comparison or a second event reads.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use handback::{Evidence, Situation, SourceFile};

fn evidence(pack: &handback::Pack, observations: &str) -> Evidence {
    let text = format!(r#"{{"council": "Test", "as_of": "2020-06-01", "observations": [{observations}]}}"#);
    Evidence::load(
        pack,
        &SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text,
        },
    )
    .unwrap()
}

fn gap_keys(pack: handback::Pack, e: Evidence) -> Vec<(String, Option<String>)> {
    let s = Situation::new(pack, e, None, None, None).unwrap();
    handback::gaps(&s)
        .gaps
        .into_iter()
        .map(|g| (g.key, g.function))
        .collect()
}

/// Spend is recorded, the budget it is compared against is not: the budget is the gap.
#[test]
fn the_other_side_of_a_comparison_is_a_gap() {
    let pack = common::load_pack("fixtures/packs/semantics");
    let e = evidence(
        &pack,
        r#"{"id": "s", "key": "spend", "value": 5, "date": "2020-05-01", "source": {"document": "d", "passage": "p"}}"#,
    );
    let gaps = gap_keys(pack, e);
    assert!(gaps.contains(&("budget".to_string(), None)), "{gaps:?}");
}

/// Every health-check finding is a graded criterion's evidence: each is a gap in August 2016 (the
/// report once read a level's name where the key should be, and listed none of them).
#[test]
fn a_graded_criterions_evidence_is_a_gap() {
    let pack = handback::default_pack().unwrap();
    let e = common::load_evidence(&pack, "fixtures/rotherham/2016-08-progress-letter.json");
    let graded: Vec<String> = pack
        .rules()
        .iter()
        .filter(|r| r.kind() == handback::RuleKind::Graded && r.set.is_some())
        .flat_map(|r| pack.keys_read(r).into_iter().map(|k| k.key.clone()))
        .collect();
    assert!(!graded.is_empty());
    let gaps = gap_keys(pack, e);
    for key in graded {
        assert!(
            gaps.iter().any(|(k, _)| *k == key),
            "`{key}` is not a gap: {gaps:?}"
        );
    }
}
