//! The public interface an embedder relies on, spelt out so that an accidental change (a
//! renamed function, a lost trait, a changed signature) fails to compile here and shows up in
//! review, in the manner of Cedar's `public_interface.rs`. Changing this file is changing the
//! API: say so in the commit.

#![allow(dead_code, clippy::unwrap_used)]

use chrono::NaiveDate;
use handback::request::{Answer, Operation, Request, RequestError, Response, API_VERSION};
use handback::{
    Assessment, Directions, Evidence, EvidenceBuilder, Gaps, LoadError, Needs, ObservationDraft, Options,
    Pack, Plan, Situation, SourceFile, Sweep, Target, Vary,
};

fn is_thread_safe<T: Send + Sync>() {}
fn is_clone<T: Clone>() {}
fn is_serialize<T: serde::Serialize>() {}
fn is_deserialize<T: serde::de::DeserializeOwned>() {}
fn is_error<T: std::error::Error>() {}

#[test]
fn types_keep_their_traits() {
    // Loaded once, shared between threads (a server answering several requests at once).
    is_thread_safe::<Pack>();
    is_thread_safe::<Evidence>();
    is_thread_safe::<Directions>();
    is_thread_safe::<Situation>();
    is_clone::<Pack>();
    is_clone::<Evidence>();
    // What a host stores and sends on.
    is_serialize::<Assessment>();
    is_serialize::<Plan>();
    is_serialize::<Needs>();
    is_serialize::<Response>();
    is_serialize::<Gaps>();
    is_serialize::<Sweep>();
    is_deserialize::<Request>();
    // What a host stores, it reads back (a response, given the operation it answers).
    is_deserialize::<Assessment>();
    is_deserialize::<handback::Check>();
    is_deserialize::<Plan>();
    is_deserialize::<Needs>();
    is_deserialize::<handback::Diff>();
    is_deserialize::<handback::Verdict>();
    is_deserialize::<handback::Readiness>();
    is_deserialize::<RequestError>();
    is_deserialize::<Gaps>();
    is_deserialize::<Sweep>();
    is_deserialize::<Vary>();
    is_error::<LoadError>();
    is_error::<RequestError>();
    assert_eq!(API_VERSION, 1);
}

#[test]
fn entry_points_keep_their_signatures() {
    let _: fn() -> Result<Pack, LoadError> = handback::default_pack;
    let _: fn(&[SourceFile]) -> Result<Pack, LoadError> = Pack::load;
    let _: fn(&Pack, &SourceFile) -> Result<Evidence, LoadError> = Evidence::load;
    let _: fn(&Pack, &SourceFile) -> Result<Directions, LoadError> = Directions::load;
    let _: fn(&Pack, &Evidence, &Options) -> Assessment = handback::assess;
    let _: fn(&Pack, &Assessment, Option<&Directions>) -> Plan = handback::plan;
    let _: fn(&Pack, &Evidence, &Options, Option<&Directions>, &Target) -> Needs = handback::needs;
    let _: fn(&Situation) -> Gaps = handback::gaps;
    let _: fn(&Request) -> Response = handback::request::handle;
    let _: fn(&str, &str) -> Result<Response, serde_json::Error> = Response::from_json;
    let _: fn(&str, serde_json::Value) -> Result<Answer, serde_json::Error> = Answer::from_json;
    let _: fn(&Evidence) -> &str = Evidence::council;
    let _: fn(&Evidence) -> &[handback::Observation] = Evidence::observations;
    let _: fn(&Directions) -> &[handback::Instrument] = Directions::instruments;
    let _: fn(&str, handback::Limits) -> String = handback::request::handle_line;
    let _: fn(&Operation, handback::Limits) -> Result<Answer, RequestError> = handback::request::answer;
    let _: fn(NaiveDate) -> Options = Options::new;
    let _: fn(&str) -> Result<Target, String> = Target::parse;
    let _: fn(&str) -> Result<handback::Change, String> = handback::parse_set;
    let _: fn(&EvidenceBuilder, &Pack) -> Result<Evidence, LoadError> = EvidenceBuilder::build;
    let _ = ObservationDraft::new("id", "key", true, NaiveDate::MIN, "document", "passage")
        .function("f")
        .basis(handback::Basis::Measured)
        .judged_by("someone")
        .role("role")
        .recorded(NaiveDate::MIN)
        .note("note");
}

/// The request format's field names are the API: a request written against version 1 still
/// reads.
#[test]
fn version_one_requests_still_read() {
    for line in [
        r#"{"op": "version"}"#,
        r#"{"id": 1, "api_version": 1, "op": "rules"}"#,
        r#"{"op": "assess", "evidence": {"council": "x", "observations": []}, "as_of": "2020-01-01", "known_at": "2020-01-01", "exclude_basis": ["decision"], "parameters": {}, "explain": false}"#,
        r#"{"op": "plan", "evidence": "{}", "directions": "{}", "with_assessment": true}"#,
        r#"{"op": "whatif", "evidence": "{}", "scenario": [], "set": ["k=1"], "parameters": {}, "scenario_as_of": "2020-01-01"}"#,
        r#"{"op": "needs", "evidence": "{}", "target": "exit", "limit": 2}"#,
        r#"{"op": "sweep", "evidence": "{}", "vary": ["k=0..1/1"]}"#,
        r#"{"op": "gaps", "evidence": {"csv": "key,value", "council": "x"}}"#,
        r#"{"op": "report", "evidence": "{}", "plan": true}"#,
        r#"{"op": "verify", "report": "{}", "public_key": "x"}"#,
        r#"{"op": "grid", "directions": "{}", "as_of": "2020-01-01"}"#,
        r#"{"op": "graph", "format": "dot"}"#,
        r#"{"op": "audit", "decisions": "", "directions": "{}"}"#,
        r#"{"op": "dates", "minded": "2020-01-01", "meetings": "date", "representation_days": 10, "count": 3}"#,
        r#"{"op": "lint", "pack": {"files": {"pack.json": "{}"}}, "evidence": [], "directions": []}"#,
        r#"{"op": "template"}"#,
    ] {
        handback::request::parse_request(line, handback::Limits::default())
            .unwrap_or_else(|(_, e)| panic!("{line}: {e}"));
    }
}
