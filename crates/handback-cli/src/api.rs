//! `handback api`: the request layer over standard input and output, one JSON request a line.
//!
//! Every answer comes from `handback::request`, the same entry point the C ABI and the workbench
//! use; this adapter only frames lines. A line longer than the input limit is skipped to its end
//! without being held in memory, and answered with an error, so one bad line never ends the loop.

use std::io::{BufRead, Read, Write};

use handback::request::{RequestError, Response, API_VERSION};

use crate::{Exit, Failure};

/// Answers requests from standard input until it closes.
pub fn serve_stdio(limits: handback::Limits) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    serve(&mut stdin.lock(), &mut stdout.lock(), limits)
        .map_err(|e| Failure::new(Exit::Io, format!("handback api: {e}")))?;
    Ok(String::new())
}

/// Answers every line of `input` on `output`, flushing after each answer so a host can talk to
/// the process one request at a time.
pub fn serve(
    input: &mut impl BufRead,
    output: &mut impl Write,
    limits: handback::Limits,
) -> std::io::Result<()> {
    let cap = limits.max_input_bytes;
    loop {
        let mut line = Vec::new();
        let read = input.by_ref().take(cap as u64 + 1).read_until(b'\n', &mut line)?;
        if read == 0 {
            return Ok(());
        }
        let answer = if line.len() > cap && !line.ends_with(b"\n") {
            // Too long: skip to the end of the line in bounded pieces, then say so.
            let mut skipped = line.len();
            loop {
                let mut rest = Vec::new();
                let n = input.by_ref().take(64 * 1024).read_until(b'\n', &mut rest)?;
                skipped += n;
                if n == 0 || rest.ends_with(b"\n") {
                    break;
                }
            }
            refuse(RequestError::Malformed {
                message: format!(
                    "the request line is at least {skipped} bytes; the limit is {cap} (raise it with `--max-input-bytes`)"
                ),
            })
        } else {
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match std::str::from_utf8(&line) {
                Ok(text) => to_line(&respond(text, limits)),
                Err(e) => refuse(RequestError::Malformed {
                    message: format!("the request line is not UTF-8 (byte {})", e.valid_up_to() + 1),
                }),
            }
        };
        output.write_all(answer.as_bytes())?;
        output.write_all(b"\n")?;
        output.flush()?;
    }
}

/// Answers one request's text, as `handle_line` does, but keeps the typed response so a front
/// end can say more about it (the workbench picks its HTTP status from the error's kind). A panic
/// is a bug, but one request's bug must not end the others' loop or the server: it is answered
/// as an internal error.
pub fn respond(text: &str, limits: handback::Limits) -> Response {
    std::panic::catch_unwind(|| match handback::request::parse_request(text, limits) {
        Ok(request) => handback::request::handle_with_limits(&request, limits),
        Err((id, error)) => refusal(id, error),
    })
    .unwrap_or_else(|_| {
        refusal(
            None,
            RequestError::Internal {
                message: "the engine failed while answering (a bug; please report it)".into(),
            },
        )
    })
}

/// A response that refuses a request, with its id when it could be read.
pub fn refusal(id: Option<serde_json::Value>, error: RequestError) -> Response {
    Response {
        api_version: API_VERSION,
        id,
        ok: false,
        result: None,
        error: Some(error),
    }
}

/// A response as one line of JSON, as `handle_line` writes it.
pub fn to_line(response: &Response) -> String {
    serde_json::to_string(response).unwrap_or_else(|e| {
        format!(r#"{{"api_version":{API_VERSION},"ok":false,"error":{{"kind":"internal","message":"cannot write the response: {e}"}}}}"#)
    })
}

fn refuse(error: RequestError) -> String {
    to_line(&refusal(None, error))
}
