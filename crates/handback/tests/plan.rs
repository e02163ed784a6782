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
    let pack = handback::rotherham().unwrap();
    let evidence = common::load_evidence(&pack, &format!("fixtures/rotherham/{milestone}.json"));
    let assessment = assess(&pack, &evidence, &Options::new(evidence.as_of.unwrap()));
    let d = directions(&pack);
    plan(&pack, &assessment, with_directions.then_some(&d))
}

fn tranche(p: &handback::Plan) -> Vec<&str> {
    p.tranche.iter().map(|t| t.function.as_str()).collect()
}

fn step(p: &handback::Plan, function: &str) -> Step {
    p.functions.iter().find(|f| f.id == function).unwrap().step
}

const OTHER_SERVICES: [&str; 11] = [
    "asset-management",
    "audit",
    "community-safety",
    "external-partnerships",
    "finance",
    "grounds-maintenance",
    "human-resources",
    "legal",
    "regeneration",
    "town-centre",
    "waste-management",
];

#[test]
fn august_2016_recommends_adult_social_care_and_the_other_services_not_childrens() {
    for with_directions in [true, false] {
        let p = plan_at("2016-08-progress-letter", with_directions);
        let t = tranche(&p);
        assert!(t.contains(&"adult-social-care"), "{t:?}");
        for f in OTHER_SERVICES {
            assert!(t.contains(&f), "{f} missing from {t:?}");
        }
        assert!(!t.contains(&"children-services"));
        assert_eq!(step(&p, "children-services"), Step::Later);
        assert!(!p.exit.possible);
    }
    let p = plan_at("2016-08-progress-letter", true);
    assert_eq!(p.phase.number, 2);
    assert_eq!(step(&p, "first-tranche"), Step::Returned);
    let safeguard = |f: &str| p.tranche.iter().find(|t| t.function == f).unwrap().safeguard;
    assert_eq!(safeguard("adult-social-care"), handback::Safeguard::Direction);
    assert_eq!(safeguard("licensing"), handback::Safeguard::Advice);
}

#[test]
fn december_2016_licensing_is_ready_and_returned() {
    let p = plan_at("2016-12-licensing", false);
    assert!(tranche(&p).contains(&"licensing"));
    let p = plan_at("2016-12-licensing", true);
    let licensing = p.functions.iter().find(|f| f.id == "licensing").unwrap();
    assert_eq!(
        (licensing.ready.as_str(), licensing.power),
        ("met", Power::Advice)
    );
}

#[test]
fn early_2017_holds_back_assets_hr_and_childrens() {
    let p = plan_at("2017-01-progress-meeting", true);
    for f in ["asset-management", "human-resources", "children-services"] {
        assert_eq!(step(&p, f), Step::Later, "{f}");
        assert!(!p
            .functions
            .iter()
            .find(|x| x.id == f)
            .unwrap()
            .blockers
            .is_empty());
    }
    assert!(tranche(&p).contains(&"regeneration"));
}

#[test]
fn march_2017_the_six_are_not_ready() {
    let p = plan_at("2017-03-returns", true);
    assert!(p.tranche.is_empty(), "{:?}", tranche(&p));
    for f in [
        "children-services",
        "community-safety",
        "asset-management",
        "performance-management",
        "waste-management",
        "human-resources",
    ] {
        assert_eq!(step(&p, f), Step::Later, "{f}");
    }
    for f in ["adult-social-care", "regeneration", "licensing", "housing"] {
        let x = p.functions.iter().find(|x| x.id == f).unwrap();
        assert_eq!((x.step, x.ready.as_str()), (Step::Returned, "met"), "{f}");
    }
    assert_eq!(p.phase.number, 3);
}

#[test]
fn february_2018_recommends_childrens_services_with_its_prerequisites_returned() {
    let p = plan_at("2018-02-children-recommended", true);
    assert_eq!(tranche(&p), ["children-services"]);
    for f in ["human-resources", "finance", "legal"] {
        assert_eq!(step(&p, f), Step::Returned);
    }
    assert!(!p.exit.possible, "the health check has not reported yet");
    assert!(p.exit.needs.iter().any(|n| n.contains("hc-all-assured")));
}

#[test]
fn march_2018_the_intervention_can_end() {
    let p = plan_at("2018-03-exit-recommended", true);
    assert!(p.exit.possible, "{:?}", p.exit.needs);
    assert_eq!(p.phase.number, 4);
    assert_eq!(step(&p, "statutory-officer-appointments"), Step::AtExit);
}

#[test]
fn the_grid_for_september_2017() {
    let pack = handback::rotherham().unwrap();
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
    // The day before: the six retained in March 2017, and statutory officer appointments.
    let before = d.grid(&pack, chrono::NaiveDate::from_ymd_opt(2017, 9, 11).unwrap());
    assert_eq!(before.iter().filter(|h| h.power == Power::Held).count(), 7);
}

#[test]
fn the_audit_flags_the_previous_holder_on_the_day_new_directions_took_effect() {
    let pack = handback::rotherham().unwrap();
    let d = directions(&pack);
    let decisions = handback::load_decisions(&pack, &common::source("fixtures/audit/decisions.csv")).unwrap();
    let findings = handback::audit(&d, &decisions);
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
    let meetings = handback::load_meetings(&common::source("fixtures/audit/meetings.csv")).unwrap();
    let minded = chrono::NaiveDate::from_ymd_opt(2016, 12, 1).unwrap();
    let dates = handback::effective_dates(minded, 10, Some(&meetings), 3).unwrap();
    let days: Vec<String> = dates.iter().map(|d| d.date.to_string()).collect();
    // 12 Dec is the first day after the period but has a meeting, as has 13 Dec.
    assert_eq!(days, ["2016-12-14", "2016-12-15", "2016-12-16"]);
    assert!(dates[0].notes.iter().any(|n| n.contains("ends on 2016-12-11")));
    assert!(dates.iter().all(|d| !meetings.contains(&d.date)));
}
