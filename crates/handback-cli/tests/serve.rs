//! `handback serve` over HTTP: `POST /api` answers exactly what `handback api` and the command
//! line answer, refuses what is not a request with the API's own located errors and a 4xx, and
//! reads no file a request names.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::server::{post, Server};
use common::{cli_json, handback, root};
use serde_json::{json, Value};

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";
const DIRECTIONS: &str = "fixtures/rotherham/directions.json";

fn text(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap()
}

fn rotherham() -> Server {
    Server::start(&[AUG_2016, "--directions", DIRECTIONS])
}

/// What `handback api` prints for one request line.
fn stdio_api(line: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handback"))
        .arg("api")
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(line.as_bytes()).unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim_end().to_string()
}

#[test]
fn the_session_hands_the_page_the_files_named_at_start_up() {
    let server = rotherham();
    let (status, headers, body) = server.get("/api/session", &["content-type", "cache-control"]);
    assert_eq!(status, 200);
    assert_eq!(headers[0].as_deref(), Some("application/json"));
    // Evidence may be confidential: never cached.
    assert_eq!(headers[1].as_deref(), Some("no-store"));
    let session: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(session["evidence"]["name"], "2016-08-progress-letter.json");
    assert_eq!(session["evidence"]["input"], text(AUG_2016));
    assert_eq!(session["directions"]["input"], text(DIRECTIONS));
    // The embedded pack: requests leave `pack` out.
    assert_eq!(session["pack"], Value::Null);
    assert_eq!(session["api_version"], 1);
}

#[test]
fn a_pack_folder_is_handed_over_by_its_files() {
    let server = Server::start(&["--pack", "rules/rotherham"]);
    let (_, _, body) = server.get("/api/session", &[]);
    let session: Value = serde_json::from_str(&body).unwrap();
    let files = session["pack"]["files"].as_object().unwrap();
    assert!(
        files.contains_key("pack.json"),
        "{:?}",
        files.keys().collect::<Vec<_>>()
    );
    assert_eq!(session["evidence"], Value::Null);
    // Sent back by value, the pack answers as the embedded one does.
    let (status, answer) = server.api_json(&json!({"op": "rules", "pack": session["pack"]}));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["result"]["pack"]["id"], "rotherham");
}

#[test]
fn a_broken_pack_is_refused_at_start_up_with_located_problems() {
    let o = handback(&["serve", "--port", "0", "--pack", "fixtures/invalid/packs/cycle"]);
    assert_eq!(o.status.code(), Some(3), "{}", common::stderr(&o));
    assert!(common::stderr(&o).contains("pack"), "{}", common::stderr(&o));
}

#[test]
fn every_answer_is_the_one_handback_api_gives() {
    let server = rotherham();
    let requests = [
        json!({"id": 1, "op": "assess", "evidence": text(AUG_2016)}),
        json!({"id": "p", "op": "plan", "evidence": text(AUG_2016), "directions": text(DIRECTIONS)}),
        json!({"id": 3, "op": "needs", "evidence": text(AUG_2016), "target": "rule:children-5"}),
        json!({"id": 4, "op": "graph", "evidence": text(AUG_2016), "directions": text(DIRECTIONS)}),
        json!({"id": 5, "op": "assess", "evidence": text(AUG_2016), "as_of": "2016-13-01"}),
    ];
    for request in requests {
        let line = request.to_string();
        let (_, body) = server.api(&line);
        assert_eq!(body, stdio_api(&line), "{line:.80}");
    }
}

/// Asks the server for a what-if (the Rotherham letter and Directions, plus `fields`) and
/// `handback whatif` for the same change (`flags`); both must give the same changes and diff.
fn same_diff(server: &Server, fields: Value, flags: &[&str]) -> Value {
    let mut request = json!({"op": "whatif", "evidence": text(AUG_2016), "directions": text(DIRECTIONS)});
    request
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    let (status, answer) = server.api_json(&request);
    assert_eq!(status, 200, "{answer}");
    let mut args = vec!["whatif", AUG_2016, "--directions", DIRECTIONS, "--format", "json"];
    args.extend(flags);
    let cli = cli_json(&args);
    assert_eq!(answer["result"]["diff"], cli["diff"]);
    assert_eq!(answer["result"]["changes"], cli["changes"]);
    cli
}

#[test]
fn a_whatif_over_http_gives_the_diff_the_command_line_prints() {
    let server = rotherham();
    let sets = [
        "function.peer_review_assured:adult-social-care=true",
        "function.quality_definitions_in_place:adult-social-care=true",
    ];
    let cli = same_diff(
        &server,
        json!({"set": sets}),
        &["--set", sets[0], "--set", sets[1]],
    );
    // The change is one a commissioner would look for: adult social care joins the tranche.
    assert_eq!(cli["diff"]["tranche"], json!([["adult-social-care"], []]));

    // A scenario chain sent by value gives what `--scenario FILE` gives from the files.
    let chain = json!([
        serde_json::from_str::<Value>(&text("fixtures/scenarios/mtfs-adopted.json")).unwrap(),
        serde_json::from_str::<Value>(&text("fixtures/scenarios/agency-20-next-quarter.json")).unwrap(),
    ]);
    let cli = same_diff(
        &server,
        json!({"scenario": chain}),
        &["--scenario", "fixtures/scenarios/agency-20-next-quarter.json"],
    );
    assert_eq!(cli["changes"].as_array().unwrap().len(), 4, "{cli}");
}

#[test]
fn what_is_not_a_request_gets_a_4xx_with_the_located_message() {
    let server = Server::start(&["--max-input-bytes", "200000"]);
    // Not JSON: 400, located by line and column.
    let (status, body) = server.api("{\"op\": \"assess\",\n \"evidence\": }");
    assert_eq!(status, 400, "{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["error"]["kind"], "malformed");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("2:"),
        "{answer}"
    );

    // A field of the wrong shape: 400, the line and column of the field.
    let (status, answer) = server.api_json(
        &json!({"op": "assess", "evidence": {"council": "X", "observations": []}, "as_of": "2016-13-01"}),
    );
    assert_eq!(status, 400);
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("column"),
        "{answer}"
    );

    // A misspelt field: 400, with a did-you-mean, never silently ignored.
    let (status, answer) = server.api_json(&json!({"op": "assess", "evidence": "{}", "asof": "2016-08-11"}));
    assert_eq!(status, 400);
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("as_of"),
        "{answer}"
    );

    // Invalid evidence: 422, every problem located in the evidence's own lines.
    let broken = text("fixtures/invalid/evidence/several-mistakes.json");
    let (status, answer) = server.api_json(&json!({"id": 9, "op": "assess", "evidence": broken}));
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["id"], 9);
    assert_eq!(answer["error"]["kind"], "invalid");
    let problems = answer["error"]["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 11);
    assert_eq!(
        (problems[0]["line"].as_u64(), problems[0]["column"].as_u64()),
        (Some(4), Some(25))
    );

    // A usage error (an unknown target): 422.
    let (status, answer) =
        server.api_json(&json!({"op": "needs", "evidence": text(AUG_2016), "target": "nonsense"}));
    assert_eq!(
        (status, answer["error"]["kind"].as_str()),
        (422, Some("usage")),
        "{answer}"
    );

    // A newer API version: 400.
    let (status, answer) = server.api_json(&json!({"op": "version", "api_version": 99}));
    assert_eq!((status, answer["error"]["kind"].as_str()), (400, Some("version")));

    // Over the body limit: 413, in the API's envelope, naming the limit and how to raise it.
    let (status, body) = server.api(&format!(
        "{{\"op\": \"lint\", \"evidence\": [\"{}\"]}}",
        "x".repeat(300_000)
    ));
    assert_eq!(status, 413, "{body:.200}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--max-input-bytes"),
        "{answer}"
    );

    // Not UTF-8: 400.
    let (status, body) = post(
        &format!("{}api", server.url),
        "application/json",
        "{\"op\": \"\u{fffd}\"}",
    );
    assert_eq!(status, 400, "{body}");

    // Not sent as JSON (a cross-site form could send text/plain without asking): 415.
    let (status, body) = post(
        &format!("{}api", server.url),
        "text/plain",
        r#"{"op": "version"}"#,
    );
    assert_eq!(status, 415, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"]["kind"],
        "malformed"
    );
}

#[test]
fn no_request_can_name_a_file_on_the_server() {
    let server = rotherham();
    // A path where the evidence goes is read as evidence text (not JSON), never opened.
    let (status, answer) = server.api_json(&json!({"op": "assess", "evidence": AUG_2016}));
    assert_eq!(status, 422, "{answer}");
    assert!(!answer.to_string().contains("Rotherham Metropolitan"), "{answer}");
    // Nor as a pack file, Directions or a scenario's base.
    let (status, answer) = server.api_json(&json!({
        "op": "whatif", "evidence": text(AUG_2016), "directions": DIRECTIONS,
    }));
    assert_eq!(status, 422, "{answer}");
    let (status, answer) = server.api_json(&json!({
        "op": "whatif", "evidence": text(AUG_2016),
        "scenario": serde_json::from_str::<Value>(&text("fixtures/scenarios/agency-20-next-quarter.json")).unwrap(),
    }));
    assert_eq!(
        (status, answer["error"]["kind"].as_str()),
        (422, Some("usage")),
        "{answer}"
    );
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cannot read"),
        "{answer}"
    );
    // And a path in the URL finds nothing but the page's own three files.
    for path in [
        "/../Cargo.toml",
        "/fixtures/rotherham/directions.json",
        "/api/../Cargo.toml",
    ] {
        let (status, _, body) = server.get(path, &[]);
        assert_eq!(status, 404, "{path}: {body}");
    }
}

#[test]
fn the_page_is_served_with_a_policy_that_runs_no_inline_script() {
    let server = rotherham();
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/app.css", "text/css"),
    ] {
        let (status, headers, body) = server.get(
            path,
            &[
                "content-type",
                "content-security-policy",
                "x-content-type-options",
            ],
        );
        assert_eq!(status, 200);
        assert!(
            headers[0].as_deref().unwrap().starts_with(kind),
            "{path}: {headers:?}"
        );
        let csp = headers[1].as_deref().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(headers[2].as_deref(), Some("nosniff"));
        assert!(!body.is_empty());
    }
    // The page's script never writes HTML from data.
    let (_, _, js) = server.get("/app.js", &[]);
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!js.contains(sink), "app.js uses {sink}");
    }
}

#[test]
fn a_request_for_another_host_is_refused() {
    // DNS rebinding: a page on another site that resolves its name to 127.0.0.1.
    let server = rotherham();
    let port = server.url.rsplit(':').next().unwrap().trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
    stream
        .write_all(b"GET /api/session HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 421"), "{answer}");
    assert!(!answer.contains("Rotherham"), "{answer}");
    // `localhost` is this machine too.
    let (status, _, _) = common::server::agent()
        .get(&format!("http://localhost:{port}/api/session"))
        .call()
        .map(|r| (r.status().as_u16(), (), ()))
        .unwrap();
    assert_eq!(status, 200);
}

#[test]
fn what_ifs_from_several_tabs_at_once_do_not_interfere() {
    let server = rotherham();
    let evidence = text(AUG_2016);
    let directions = text(DIRECTIONS);
    let requests: Vec<String> = (0..12)
        .map(|i| {
            let share = f64::from(i) / 20.0;
            json!({
                "id": i, "op": "whatif", "evidence": evidence, "directions": directions,
                "set": [format!("children.agency_share={share}")],
            })
            .to_string()
        })
        .collect();
    let alone: Vec<String> = requests.iter().map(|r| server.api(r).1).collect();
    let together: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = requests.iter().map(|r| s.spawn(|| server.api(r).1)).collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(alone, together);
    // And they differ from each other, so the comparison means something.
    assert_ne!(alone[0], alone[11]);
}

#[test]
fn the_openapi_description_names_every_route_and_only_those() {
    let openapi: Value = serde_json::from_str(&text("docs/openapi.json")).unwrap();
    let server = rotherham();
    let paths = openapi["paths"].as_object().unwrap();
    let mut names: Vec<&str> = paths.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["/", "/api", "/api/session", "/app.css", "/app.js"]);
    for (path, methods) in paths {
        for method in methods.as_object().unwrap().keys() {
            let status = match method.as_str() {
                "get" => server.get(path, &[]).0,
                "post" => server.api(r#"{"op": "version"}"#).0,
                other => panic!("{path}: {other}"),
            };
            assert_eq!(status, 200, "{method} {path}");
        }
    }
    // Its schemas are the generated ones beside it.
    for file in ["docs/schemas/request.json", "docs/schemas/response.json"] {
        assert!(root().join(file).is_file(), "{file}");
    }
}

#[test]
fn spreadsheet_evidence_is_handed_over_in_a_form_a_request_takes() {
    let dir = std::env::temp_dir().join(format!("handback-serve-sheets-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let want = common::verdicts(
        &cli_json(&["assess", AUG_2016, "--format", "json"])["results"],
        "outcome",
    );
    for format in ["csv", "xlsx"] {
        let path = dir.join(format!("letter.{format}"));
        let o = handback(&[
            "evidence",
            "export",
            AUG_2016,
            "--format",
            format,
            "-o",
            path.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        let server = Server::start(&[path.to_str().unwrap()]);
        let (_, _, body) = server.get("/api/session", &[]);
        let session: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(session["evidence"]["name"], format!("letter.{format}"));
        // A CSV file goes as its rows (checked by the request layer); a workbook, converted
        // once at start-up, as evidence JSON.
        let input = &session["evidence"]["input"];
        assert_eq!(input.is_object(), format == "csv", "{format}: {input:.200}");
        let (status, answer) =
            server.api_json(&json!({"op": "assess", "evidence": input, "as_of": "2016-08-11"}));
        assert_eq!(status, 200, "{format}: {answer}");
        assert_eq!(
            common::verdicts(&answer["result"]["results"], "outcome"),
            want,
            "{format}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn on_a_network_only_an_ip_address_is_answered() {
    // Opened to the network, a DNS name could still be rebound to this machine by another
    // site's page: only an address typed as an IP (or localhost) gets an answer.
    let server = Server::start(&["--listen", "0.0.0.0", AUG_2016]);
    let port = server.url.rsplit(':').next().unwrap().trim_end_matches('/');
    let ask = |host: &str| {
        let mut stream = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).unwrap();
        stream
            .write_all(
                format!("GET /api/session HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
            )
            .unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
        answer
    };
    let refused = ask(&format!("attacker.example:{port}"));
    assert!(refused.starts_with("HTTP/1.1 421"), "{refused}");
    assert!(!refused.contains("Rotherham"), "{refused}");
    assert!(ask(&format!("127.0.0.1:{port}")).starts_with("HTTP/1.1 200"));
    assert!(ask(&format!("[::1]:{port}")).starts_with("HTTP/1.1 200"));
    assert!(ask("127.0.0.1:1").starts_with("HTTP/1.1 421"));
}
