//! The planner held against the record: at each milestone, under the Rotherham Directions, the
//! tranche, the phase and the exit agree with what the Commissioners did. Also the grid, the
//! decision audit and the effective-date helper.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use handback::{assess, plan, Directions, Options, Power, Step};

fn directions(pack: &handback::Pack) -> Directions {
    Directions::load(pack, &common::source("fixtures/rotherham/directions.json")).unwrap()
}

fn plan_at(milestone: &str, with_directions: bool) -> handback::Plan {
    let pack = handback::default_pack().unwrap();
    let evidence = common::load_evidence(&pack, &format!("fixtures/rotherham/{milestone}.json"));
    let assessment = assess(&pack, &evidence, &Options::new(evidence.as_of().unwrap()));
    let d = directions(&pack);
    plan(&pack, &assessment, with_directions.then_some(&d))
}

fn tranche(p: &handback::Plan) -> Vec<&str> {
    p.tranche.iter().map(|t| t.function.as_str()).collect()
}

fn step(p: &handback::Plan, function: &str) -> Step {
    p.functions.iter().find(|f| f.id == function).unwrap().step
}

fn function<'a>(p: &'a handback::Plan, id: &str) -> &'a handback::FunctionPlan {
    p.functions.iter().find(|f| f.id == id).unwrap()
}

/// The August 2016 letter: licensing recommended in May and still awaiting the decision; adult
/// social care and the other services deferred to a final assessment in November (their tests
/// are not all known, so nothing is recommended now); children's services not recommended.
#[test]
fn august_2016_licensing_awaits_the_decision_and_nothing_else_is_ready() {
    let p = plan_at("2016-08-progress-letter", true);
    assert!(tranche(&p).is_empty(), "{:?}", tranche(&p));
    assert_eq!(step(&p, "licensing"), Step::AwaitingDecision);
    let awaiting: Vec<&str> = p.awaiting.iter().map(|a| a.function.as_str()).collect();
    assert_eq!(awaiting, ["licensing"]);
    assert_eq!(p.awaiting[0].safeguard, handback::model::Safeguard::Advice);
    let licensing = function(&p, "licensing");
    assert!(
        licensing
            .ready_because
            .starts_with("recommended by the Commissioners on 2016-05-31"),
        "{}",
        licensing.ready_because
    );
    for f in [
        "adult-social-care",
        "regeneration",
        "community-safety",
        "waste-management",
    ] {
        assert_eq!(step(&p, f), Step::Later, "{f}");
        assert_eq!(function(&p, f).ready, handback::Readiness::Unknown, "{f}");
    }
    let children = function(&p, "children-services");
    assert_eq!(children.step, Step::Later);
    assert!(children
        .blockers
        .iter()
        .any(|b| matches!(b, handback::Blocker::NotRecommended { .. })));
    assert_eq!(step(&p, "first-tranche"), Step::Returned);
    assert_eq!(p.phase.as_ref().unwrap().number, 2);
    assert!(!p.exit.possible);
}

#[test]
fn december_2016_licensing_is_returned() {
    let p = plan_at("2016-12-licensing", true);
    let licensing = function(&p, "licensing");
    assert_eq!((licensing.step, licensing.power), (Step::Returned, Power::Advice));
}

/// Early 2017 (003 §2.3): asset management, HR and children's services not yet recommended,
/// outside appointments not recommended; the town centre, regeneration and partnerships
/// recommended and awaiting the decision.
#[test]
fn early_2017_holds_back_assets_hr_and_childrens() {
    let p = plan_at("2017-01-progress-meeting", true);
    for f in [
        "asset-management",
        "human-resources",
        "children-services",
        "outside-appointments",
    ] {
        assert_eq!(step(&p, f), Step::Later, "{f}");
        assert!(
            function(&p, f)
                .blockers
                .iter()
                .any(|b| matches!(b, handback::Blocker::NotRecommended { .. })),
            "{f}"
        );
    }
    for f in ["regeneration", "town-centre", "external-partnerships"] {
        assert_eq!(step(&p, f), Step::AwaitingDecision, "{f}");
    }
}

/// March 2017: the remaining functions returned except six (004 §7); of the six, community
/// safety and waste management had been recommended (003) and are awaiting the decision, not
/// failing a test; the other four are held back.
#[test]
fn march_2017_the_six_are_held() {
    let p = plan_at("2017-03-returns", true);
    assert!(p.tranche.is_empty(), "{:?}", tranche(&p));
    for f in ["community-safety", "waste-management"] {
        assert_eq!(step(&p, f), Step::AwaitingDecision, "{f}");
        assert_eq!(
            function(&p, f).safeguard,
            handback::model::Safeguard::Direction,
            "{f}"
        );
    }
    for f in [
        "children-services",
        "asset-management",
        "performance-management",
        "human-resources",
    ] {
        assert_eq!(step(&p, f), Step::Later, "{f}");
    }
    for f in ["adult-social-care", "regeneration", "licensing"] {
        assert_eq!(step(&p, f), Step::Returned, "{f}");
    }
    assert_eq!(p.phase.as_ref().unwrap().number, 3);
}

/// February 2018: children's services recommended (002); it waits for the decision, and a return
/// made now would come with no safeguard, as the September 2017 returns did.
#[test]
fn february_2018_childrens_services_is_recommended() {
    let p = plan_at("2018-02-children-recommended", true);
    assert_eq!(step(&p, "children-services"), Step::AwaitingDecision);
    assert_eq!(
        function(&p, "children-services").safeguard,
        handback::model::Safeguard::None
    );
    assert!(!p.exit.possible, "the health check has not reported yet");
    assert!(p.exit.needs.iter().any(|n| n.contains("hc-all-assured")));
    // Known on 9 February 2018, only the documents of that day count: 002, which reports the
    // recommendation, is of 21 March.
    let pack = handback::default_pack().unwrap();
    let evidence = common::load_evidence(&pack, "fixtures/rotherham/2018-02-children-recommended.json");
    let mut options = Options::new(evidence.as_of().unwrap());
    options.known_at = evidence.as_of();
    let known = plan(
        &pack,
        &assess(&pack, &evidence, &options),
        Some(&directions(&pack)),
    );
    assert_eq!(step(&known, "children-services"), Step::Later);
}

#[test]
fn march_2018_the_intervention_can_end() {
    let p = plan_at("2018-03-exit-recommended", true);
    assert!(p.exit.possible, "{:?}", p.exit.needs);
    assert_eq!(p.phase.as_ref().unwrap().number, 4);
    assert_eq!(step(&p, "statutory-officer-appointments"), Step::AtExit);
}

/// Without recorded decisions the plan rests on the evidence alone: nothing is awaiting a
/// decision, since the only way the seeds show a function ready is its recommendation.
#[test]
fn without_decisions_nothing_awaits() {
    let pack = handback::default_pack().unwrap();
    let evidence = common::load_evidence(&pack, "fixtures/rotherham/2017-03-returns.json");
    let mut options = Options::new(evidence.as_of().unwrap());
    options.exclude_basis = vec![handback::Basis::Decision];
    let p = plan(
        &pack,
        &assess(&pack, &evidence, &options),
        Some(&directions(&pack)),
    );
    assert!(p.awaiting.is_empty());
    assert_eq!(step(&p, "community-safety"), Step::Later);
}

#[test]
fn the_grid_for_september_2017() {
    let pack = handback::default_pack().unwrap();
    let d = directions(&pack);
    let date = chrono::NaiveDate::from_ymd_opt(2017, 9, 30).unwrap();
    let grid = d.grid(&pack, date);
    let held: Vec<&str> = grid
        .iter()
        .filter(|h| h.power == Power::Held)
        .map(|h| h.function.as_str())
        .collect();
    assert_eq!(held, ["children-services", "statutory-officer-appointments"]);
    let advice: Vec<&str> = grid
        .iter()
        .filter(|h| h.power == Power::Advice)
        .map(|h| h.function.as_str())
        .collect();
    assert_eq!(advice, ["adult-social-care", "domestic-abuse"]);
    // The day before: the six retained in March 2017, domestic abuse (named only from
    // September 2017) and statutory officer appointments.
    let before = d.grid(&pack, chrono::NaiveDate::from_ymd_opt(2017, 9, 11).unwrap());
    assert_eq!(before.iter().filter(|h| h.power == Power::Held).count(), 8);
}

#[test]
fn the_audit_flags_the_previous_holder_on_the_day_new_directions_took_effect() {
    let pack = handback::default_pack().unwrap();
    let d = directions(&pack);
    let decisions =
        handback::audit::load_decisions(&pack, &common::source("fixtures/audit/decisions.csv")).unwrap();
    let findings = handback::audit::audit(&d, &decisions);
    let by_ref = |r: &str| {
        findings
            .iter()
            .find(|f| f.decision.reference.as_deref().unwrap().starts_with(r))
            .unwrap()
    };
    assert!(by_ref("HR-101").valid);
    let previous = by_ref("HR-102");
    assert!(!previous.valid);
    assert!(
        previous.because.contains("from the previous midnight"),
        "{}",
        previous.because
    );
    let new_holder = by_ref("HR-103");
    assert!(new_holder.valid);
    assert!(new_holder.because.contains("took effect that day"));
    assert!(!by_ref("CYPS-7").valid);
    assert!(!by_ref("LIC-44").valid);
    assert!(by_ref("CYPS-9").valid);
}

#[test]
fn effective_dates_avoid_meetings_and_the_representation_period() {
    let meetings = handback::audit::load_meetings(&common::source("fixtures/audit/meetings.csv")).unwrap();
    let minded = chrono::NaiveDate::from_ymd_opt(2016, 12, 1).unwrap();
    let dates = handback::audit::effective_dates(minded, 10, Some(&meetings), 3).unwrap();
    let days: Vec<String> = dates.iter().map(|d| d.date.to_string()).collect();
    // 12 Dec is the first day after the period but has a meeting, as has 13 Dec.
    assert_eq!(days, ["2016-12-14", "2016-12-15", "2016-12-16"]);
    assert!(dates[0].notes.iter().any(|n| n.contains("ends on 2016-12-11")));
    assert!(dates.iter().all(|d| !meetings.contains(&d.date)));
}

/// Directions that expire hand every power the Commissioners held or kept a safeguard over back
/// on the day they expire; before that day nothing changes.
#[test]
fn expired_directions_return_every_power() {
    let pack = handback::default_pack().unwrap();
    let mut doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::root().join("fixtures/rotherham/directions.json")).unwrap(),
    )
    .unwrap();
    doc["expires"] = serde_json::json!("2019-03-31");
    let file = handback::SourceFile {
        name: "d.json".into(),
        label: "d.json".into(),
        text: doc.to_string(),
    };
    let d = Directions::load(&pack, &file).unwrap();
    let day = |s: &str| handback::parse_date(s).unwrap();
    let before = d.holding("children-services", day("2019-03-30"));
    assert_eq!(before.power, Power::Held, "{before:?}");
    assert!(!before.expired);
    let after = d.holding("children-services", day("2019-03-31"));
    assert_eq!(
        (after.power, after.since, after.expired),
        (Power::Returned, Some(day("2019-03-31")), true)
    );
}
