//! `handback serve`: the commissioners' workbench, the request layer over HTTP with a page on top.
//!
//! The server adds no judgement of its own. `POST /api` takes one request (the JSON that
//! `handback api` takes on a line) and answers with the response `handback api` would print, so
//! the page can do nothing a script could not. The files named on the command line are read once,
//! at start-up, and handed to the page by `GET /api/session`; the page then sends them back by
//! value in every request, as any API client does. No request can name a file: the request layer
//! takes its inputs by value, so uploaded evidence never touches the disk.
//!
//! Hardening, each for a reason:
//! - **Loopback by default**, and when listening on loopback the `Host` header must name a
//!   loopback address, so a web page elsewhere cannot reach the server through DNS rebinding and
//!   read the evidence it was started with.
//! - **`POST /api` takes `application/json` only**, which a cross-site form cannot send without a
//!   CORS preflight (which this server never grants).
//! - **A body limit** (`--max-input-bytes`), checked while the body is read, answered with the
//!   API's own error envelope and 413.
//! - **A bounded pool of workers**: requests are answered on blocking threads, at most a few at
//!   once, so many tabs or a load test cannot make memory grow with the queue.
//! - **A strict Content-Security-Policy**: scripts from this server only, no inline script, so
//!   evidence text shown by mistake as HTML still could not run. The page shows all text with
//!   `textContent`; the policy is the second wall.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use handback::request::RequestError;
use serde::Serialize;

use crate::{files, Exit, Failure};

/// The page, its script and its style, in the binary so `handback serve` works from a fresh
/// `cargo build` with no asset folder beside it and no build step.
const INDEX_HTML: &str = include_str!("../assets/workbench/index.html");
const APP_JS: &str = include_str!("../assets/workbench/app.js");
const APP_CSS: &str = include_str!("../assets/workbench/app.css");

/// Scripts and styles from this server only; no inline script, no plugin, no framing; images
/// from data and blob URLs (the graph's picture and downloads).
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// What `handback serve` was asked to serve.
pub struct Config {
    /// The address to listen on.
    pub listen: IpAddr,
    /// The port (0: any free port).
    pub port: u16,
    /// Open the page in the user's browser once listening.
    pub open: bool,
    /// The limits every request is held to.
    pub limits: handback::Limits,
    /// The inputs handed to the page.
    pub session: Session,
}

/// The inputs read at start-up, as the page receives them from `GET /api/session` and sends them
/// back in its requests: each in the form a request's field takes.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// The engine, e.g. `handback 0.1.0`.
    pub engine: String,
    /// The newest API version answered.
    pub api_version: u32,
    /// The largest request body accepted, in bytes.
    pub max_request_bytes: usize,
    /// The pack folder's files (`request.pack`), or none for the embedded pack.
    pub pack: Option<PackFiles>,
    /// What the pack is, in words.
    pub pack_label: String,
    /// The evidence, with the file it came from.
    pub evidence: Option<Named>,
    /// The Directions, with the file they came from.
    pub directions: Option<Named>,
}

/// A pack by value, as `request.pack` takes it.
#[derive(Debug, Clone, Serialize)]
pub struct PackFiles {
    /// File name (relative to the pack folder; a base under `base/`) to text.
    pub files: BTreeMap<String, String>,
}

/// An input and the name of the file it was read from.
#[derive(Debug, Clone, Serialize)]
pub struct Named {
    /// The file's name, for the page to show.
    pub name: String,
    /// The request field's value: the file's text, or `{"csv", "council"}` for a CSV file.
    pub input: serde_json::Value,
}

impl Session {
    /// Reads what the command line names. The pack is loaded now, so a broken pack is reported
    /// here, located, as every command reports it; evidence and Directions are only read, and
    /// checked by the page (which shows their problems beside their lines). A workbook is turned
    /// into evidence JSON here, since a request carries text.
    pub fn read(
        pack_dir: Option<&Path>,
        base: Option<&Path>,
        evidence: Option<&Path>,
        directions: Option<&Path>,
        limits: handback::Limits,
    ) -> Result<Session, Failure> {
        let (pack, pack_label, loaded) = match pack_dir {
            Some(dir) => {
                let sources = files::read_pack_layers(dir, base)?;
                let loaded = handback::Pack::load_with_limits(&sources, limits)?;
                let files = sources.into_iter().map(|f| (f.name, f.text)).collect();
                (Some(PackFiles { files }), dir.display().to_string(), loaded)
            }
            None => (
                None,
                "the embedded pack".to_string(),
                handback::default_pack().map_err(|e| {
                    Failure::new(
                        Exit::Internal,
                        format!("the embedded pack is invalid (a bug in this build):\n{e}"),
                    )
                })?,
            ),
        };
        let evidence = match evidence {
            Some(path) => Some(read_evidence(&loaded, path)?),
            None => None,
        };
        let directions = match directions {
            Some(path) => Some(Named {
                name: file_name(path),
                input: serde_json::Value::String(files::read_source(path)?.text),
            }),
            None => None,
        };
        Ok(Session {
            engine: format!("handback {}", env!("CARGO_PKG_VERSION")),
            api_version: handback::request::API_VERSION,
            max_request_bytes: limits.max_input_bytes,
            pack,
            pack_label: format!(
                "{} ({} {})",
                pack_label,
                loaded.manifest().id,
                loaded.manifest().version
            ),
            evidence,
            directions,
        })
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Evidence as a request carries it: JSON as its text (so the page can show its lines), CSV as
/// `{"csv", "council"}`, a workbook converted to evidence JSON (checked against the pack, so a
/// broken workbook is reported now, located).
fn read_evidence(pack: &handback::Pack, path: &Path) -> Result<Named, Failure> {
    let name = file_name(path);
    let is = |ext: &str| path.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext));
    let input = if is("xlsx") {
        let evidence = files::read_evidence(pack, path, None, None)?;
        serde_json::Value::String(handback::canonical::canonical(&evidence.canonical()))
    } else if is("csv") {
        // A CSV file has no About sheet: the council is named by the file, as `evidence import`
        // names it.
        let council = path
            .file_stem()
            .map_or_else(|| "unnamed".into(), |s| s.to_string_lossy().into_owned());
        serde_json::json!({"csv": files::read_source(path)?.text, "council": council})
    } else {
        serde_json::Value::String(files::read_source(path)?.text)
    };
    Ok(Named { name, input })
}

/// What every handler shares.
struct AppState {
    limits: handback::Limits,
    session: String,
    /// The `Host` values accepted: on loopback, this server's loopback names; on a network,
    /// (`None`) an IP address with this server's port, never a DNS name.
    hosts: Option<Vec<String>>,
    /// The port, for checking `Host` on a network.
    port: u16,
    /// At most this many requests are answered at once; the rest wait their turn.
    workers: Arc<tokio::sync::Semaphore>,
}

/// The router, apart from the socket, so tests and the load test can serve it on any listener.
fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(
            "/",
            get(|| async { asset(INDEX_HTML, "text/html; charset=utf-8") }),
        )
        .route(
            "/app.js",
            get(|| async { asset(APP_JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/app.css",
            get(|| async { asset(APP_CSS, "text/css; charset=utf-8") }),
        )
        .route("/api/session", get(session))
        .route("/api", post(api))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found: the workbench is at /\n") })
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

fn asset(text: &'static str, content_type: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], text).into_response()
}

/// Refuses a request whose `Host` is not this server's loopback name (DNS rebinding), and puts
/// the security headers on every answer.
async fn guard(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    match &state.hosts {
        Some(hosts) if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) => {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                format!("this workbench answers on {} only\n", hosts.join(", ")),
            )
                .into_response();
        }
        // On a network, a page that rebinds its own DNS name to this machine would send that
        // name: only an address typed as an IP (or localhost) is answered.
        None if !network_host_ok(host, state.port) => {
            return (
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "this workbench answers to its IP address only (e.g. http://192.0.2.1:{}/), not to a name\n",
                    state.port
                ),
            )
                .into_response();
        }
        _ => {}
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        // Evidence may be confidential: nothing the server says is kept in a cache.
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

async fn session(State(state): State<Arc<AppState>>) -> Response {
    json_response(StatusCode::OK, state.session.clone())
}

fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

enum BodyError {
    TooLong,
    Slow,
    Unreadable(axum::Error),
}

/// Reads a body of at most `cap` bytes. An oversized body is still read to its end (discarded,
/// up to a bound) before the refusal is sent: a server that answers and closes while the client
/// is still sending makes the client's socket fail with a reset, and the client never sees the
/// 413 that says what the limit is and how to raise it. A body declared larger than that bound
/// is refused at once, and a client that stops sending for 5 seconds (or takes more than 30 in
/// all) loses its turn, so slow clients cannot hold the workers.
async fn read_body(body: Body, cap: usize, declared: Option<u64>) -> Result<Vec<u8>, BodyError> {
    use http_body_util::BodyExt;
    let drain_bound = cap.saturating_mul(16).max(16 << 20);
    if declared.is_some_and(|n| n > drain_bound as u64) {
        return Err(BodyError::TooLong);
    }
    let idle = std::time::Duration::from_secs(5);
    let mut body = body;
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    let drain = async {
        loop {
            let frame = match tokio::time::timeout(idle, body.frame()).await {
                Ok(Some(frame)) => frame.map_err(BodyError::Unreadable)?,
                Ok(None) => break,
                Err(_) => return Err(BodyError::Slow),
            };
            if let Some(data) = frame.data_ref() {
                seen = seen.saturating_add(data.len());
                if seen <= cap {
                    bytes.extend_from_slice(data);
                } else if seen > drain_bound {
                    break;
                }
            }
        }
        Ok::<(), BodyError>(())
    };
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), drain).await;
    match read {
        Ok(Ok(())) if seen <= cap => Ok(bytes),
        Ok(Ok(())) => Err(BodyError::TooLong),
        Ok(Err(_)) | Err(_) if seen > cap => Err(BodyError::TooLong),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(BodyError::Slow),
    }
}

/// Answers one request: the body is the request's JSON, the answer the response `handback api`
/// prints for it, with an HTTP status that says the same as its `ok` and `error.kind`.
async fn api(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let refuse = |status: StatusCode, message: String| {
        let response = crate::api::refusal(None, RequestError::Malformed { message });
        json_response(status, crate::api::to_line(&response))
    };
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "a request is sent as `Content-Type: application/json`".into(),
        );
    }
    // The turn is taken before the body is read, so at most `workers` bodies are held in
    // memory at once, however many tabs (or a load test) send at the same moment.
    let Ok(permit) = state.workers.clone().acquire_owned().await else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down".into(),
        );
    };
    let cap = state.limits.max_input_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let bytes = match read_body(body, cap, declared).await {
        Ok(b) => b,
        Err(BodyError::TooLong) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request is over {cap} bytes, the limit (raise it with `--max-input-bytes`)"),
            )
        }
        Err(BodyError::Slow) => {
            return refuse(
                StatusCode::REQUEST_TIMEOUT,
                "the request's body was not sent in time (5 seconds without a byte, or 30 in all)".into(),
            )
        }
        Err(BodyError::Unreadable(e)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the request could not be read: {e}"),
            )
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "the request is not UTF-8 (byte {})",
                    e.utf8_error().valid_up_to() + 1
                ),
            )
        }
    };
    let limits = state.limits;
    // The turn goes with the work: a client that hangs up does not end a blocking task, so the
    // turn is given back when the engine is done, not when the connection is.
    let answered = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let response = crate::api::respond(&text, limits);
        (status_of(&response), crate::api::to_line(&response))
    })
    .await;
    match answered {
        Ok((status, line)) => json_response(status, line),
        Err(_) => {
            let response = crate::api::refusal(
                None,
                RequestError::Internal {
                    message: "the engine failed while answering (a bug; please report it)".into(),
                },
            );
            json_response(StatusCode::INTERNAL_SERVER_ERROR, crate::api::to_line(&response))
        }
    }
}

/// The HTTP status that says what the response's `ok` and `error.kind` say: 200 answered, 400 a
/// request that is not one (malformed, a newer version), 422 a request understood but whose
/// inputs are invalid or ask the impossible (a verify that does not reproduce included), 500 a
/// bug.
fn status_of(response: &handback::request::Response) -> StatusCode {
    match &response.error {
        None => StatusCode::OK,
        Some(RequestError::Malformed { .. } | RequestError::Version { .. }) => StatusCode::BAD_REQUEST,
        Some(RequestError::Internal { .. }) => StatusCode::INTERNAL_SERVER_ERROR,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Whether a `Host` header names this server by IP address (or as localhost) and `port`.
fn network_host_ok(host: &str, port: u16) -> bool {
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    if p.parse::<u16>().ok() != Some(port) {
        return false;
    }
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    name.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok()
}

/// The `Host` values a browser sends to a loopback server on `port`.
fn loopback_hosts(port: u16) -> Vec<String> {
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .map(|h| format!("{h}:{port}"))
        .collect()
}

/// The page's address for a socket address.
fn url_of(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("http://[{ip}]:{}/", addr.port()),
        IpAddr::V4(ip) => format!("http://{ip}:{}/", addr.port()),
    }
}

/// Serves until the process is stopped (Ctrl-C). Prints the page's address first, flushed, so a
/// script (or the browser test) can read the port when `--port 0` chose one.
pub fn serve(config: Config) -> Result<String, Failure> {
    let addr = SocketAddr::new(config.listen, config.port);
    let listener = std::net::TcpListener::bind(addr).map_err(|e| {
        Failure::new(
            Exit::Io,
            format!("cannot listen on {addr}: {e} (choose another with `--port N`, or `--port 0` for any free port)"),
        )
    })?;
    let bound = listener
        .local_addr()
        .map_err(|e| Failure::new(Exit::Io, format!("cannot read the listening address: {e}")))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| Failure::new(Exit::Io, format!("cannot set up the listener: {e}")))?;
    let session = serde_json::to_string(&config.session)
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot write the session: {e}")))?;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let state = Arc::new(AppState {
        limits: config.limits,
        session,
        hosts: config.listen.is_loopback().then(|| loopback_hosts(bound.port())),
        port: bound.port(),
        workers: Arc::new(tokio::sync::Semaphore::new(cores.max(2))),
    });
    let url = url_of(if config.listen.is_unspecified() {
        SocketAddr::new(IpAddr::from([127, 0, 0, 1]), bound.port())
    } else {
        bound
    });
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "Handback workbench: {url}");
        if !config.listen.is_loopback() {
            let _ = writeln!(
                out,
                "Listening on {bound}: reachable from other machines, with no sign-in; it answers only when addressed by IP (a DNS name is refused, against DNS rebinding). Stop with Ctrl-C."
            );
        } else {
            let _ = writeln!(out, "Listening on this machine only. Stop with Ctrl-C.");
        }
        let _ = out.flush();
    }
    if config.open {
        open_browser(&url);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::new(Exit::Internal, format!("cannot start the server: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)
            .map_err(|e| Failure::new(Exit::Io, format!("cannot set up the listener: {e}")))?;
        axum::serve(listener, router(state))
            .await
            .map_err(|e| Failure::new(Exit::Io, format!("the server stopped: {e}")))
    })?;
    Ok(String::new())
}

/// Opens `url` with the desktop's own opener; a failure is only reported, since the address is
/// printed anyway.
fn open_browser(url: &str) {
    let opener: (&str, Vec<&str>) = if cfg!(target_os = "macos") {
        ("open", vec![url])
    } else if cfg!(windows) {
        ("cmd", vec!["/C", "start", "", url])
    } else {
        ("xdg-open", vec![url])
    };
    if let Err(e) = std::process::Command::new(opener.0)
        .args(&opener.1)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        eprintln!("cannot open a browser ({}: {e}); open {url} yourself", opener.0);
    }
}
