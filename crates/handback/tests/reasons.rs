//! Reasons carry what each leaf checked as data (`Reason::check`), so a host reads the key, the
//! comparison and what the evidence showed without parsing the sentences. These tests hold that
//! data to what the engine actually did, across the whole Rotherham record.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use handback::{assess, CheckKind, Found, Options, Reason, RuleResult, Verdict};

fn leaves<'a>(reason: &'a Reason, out: &mut Vec<&'a Reason>) {
    if reason.parts.is_empty() {
        out.push(reason);
    }
    for p in &reason.parts {
        leaves(p, out);
    }
}

#[test]
fn every_leaf_says_as_data_what_it_checked_and_found() {
    let pack = handback::default_pack().unwrap();
    let mut checked = 0;
    let mut rule_refs = 0;
    let record = std::fs::read_dir(common::root().join("fixtures/rotherham")).unwrap();
    let mut files: Vec<String> = record
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("20") && n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{files:?}");
    for file in files {
        let evidence = common::load_evidence(&pack, &format!("fixtures/rotherham/{file}"));
        let as_of = evidence.as_of().unwrap();
        let assessment = assess(&pack, &evidence, &Options::new(as_of));
        let find = |rule: &str, function: Option<&str>| -> Option<&RuleResult> {
            assessment
                .results
                .iter()
                .find(|r| r.rule == rule && (r.function.as_deref() == function || r.function.is_none()))
        };
        for result in &assessment.results {
            let mut found = Vec::new();
            leaves(result.reason.as_ref().unwrap(), &mut found);
            for leaf in found {
                // A graded rule's "otherwise" level has no condition, so nothing to check.
                let Some(check) = &leaf.check else {
                    assert!(leaf.says.ends_with("otherwise"), "{}: {}", result.rule, leaf.says);
                    continue;
                };
                checked += 1;
                if check.test == CheckKind::Rule {
                    rule_refs += 1;
                    let target = check.rule.as_deref().unwrap();
                    let referenced = find(target, check.function.as_deref()).unwrap_or_else(|| {
                        panic!("{}: refers to {target}, not in the assessment", result.rule)
                    });
                    // A reference to a graded rule names the level it needs, from that rule's scale.
                    if let Some(level) = &check.at_least {
                        assert!(
                            matches!(&referenced.outcome, Verdict::Level(_) | Verdict::Unknown),
                            "{} -> {target}: `at_least {level}` on a rule that is not graded",
                            result.rule
                        );
                    }
                    // A test reference is met exactly when the rule it names is.
                    if matches!(
                        referenced.outcome,
                        Verdict::Met | Verdict::NotMet | Verdict::Unknown
                    ) {
                        assert_eq!(leaf.outcome, referenced.outcome, "{} -> {target}", result.rule);
                    }
                    continue;
                }
                let key = check.key.as_deref().unwrap();
                assert!(
                    leaf.says.contains(key)
                        || leaf.because.as_deref().is_some_and(|b| b.contains(key))
                        || !leaf.evidence.is_empty(),
                    "{}: the check names `{key}`, which the reason never mentions",
                    result.rule
                );
                match check.found.unwrap() {
                    Found::Missing => {
                        assert_eq!(leaf.outcome, Verdict::Unknown, "{}: {key}", result.rule);
                        assert!(leaf.evidence.is_empty());
                    }
                    Found::Stale | Found::TooOld => assert_eq!(leaf.outcome, Verdict::Unknown),
                    Found::Compared => {
                        assert!(check.op.is_some() && leaf.threshold.is_some(), "{}", result.rule);
                        assert_ne!(leaf.outcome, Verdict::Unknown);
                        assert_eq!(leaf.evidence.len(), 1);
                    }
                    _ => {}
                }
                // The evidence cited is the evidence of the key checked (a derived key cites
                // the inputs it was computed from instead).
                let derived = pack.keys().iter().any(|k| k.key == key && k.derived.is_some());
                if !derived {
                    for e in &leaf.evidence {
                        assert!(
                            e.key == key || check.other_key.as_deref() == Some(e.key.as_str()),
                            "{}: cites `{}` for a check of `{key}`",
                            result.rule,
                            e.key
                        );
                        if let Some(f) = &check.function {
                            assert!(e.function.is_none() || e.function.as_ref() == Some(f));
                        }
                    }
                }
            }
        }
    }
    assert!(
        checked > 1000 && rule_refs > 50,
        "{checked} leaves, {rule_refs} references"
    );
}
