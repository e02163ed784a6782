//! A `handback serve` for a test: started on a free port, its address read from what it prints,
//! stopped when dropped; and HTTP requests to it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Server {
    child: Child,
    /// The page's address, e.g. `http://127.0.0.1:40123/`.
    pub url: String,
}

impl Server {
    /// Starts `handback serve --port 0 ARGS` from the repository root.
    pub fn start(args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_handback"))
            .arg("serve")
            .args(["--port", "0"])
            .args(args)
            .current_dir(super::root())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("Handback workbench: ")
            .unwrap_or_else(|| panic!("`handback serve` printed {first:?}"))
            .to_string();
        Server { child, url }
    }

    /// The process id, to read its memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// POSTs one request to `/api`; the status and the body.
    pub fn api(&self, body: &str) -> (u16, String) {
        post(&format!("{}api", self.url), "application/json", body)
    }

    /// POSTs one request and parses the answer.
    pub fn api_json(&self, request: &serde_json::Value) -> (u16, serde_json::Value) {
        let (status, body) = self.api(&request.to_string());
        (
            status,
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")),
        )
    }

    /// GETs a path; the status, the headers asked for, and the body.
    pub fn get(&self, path: &str, headers: &[&str]) -> (u16, Vec<Option<String>>, String) {
        let response = agent()
            .get(&format!("{}{}", self.url, path.trim_start_matches('/')))
            .call()
            .unwrap();
        let status = response.status().as_u16();
        let values = headers
            .iter()
            .map(|h| {
                response
                    .headers()
                    .get(*h)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            })
            .collect();
        (status, values, response.into_body().read_to_string().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP client that reads 4xx and 5xx answers as answers, not errors: the API's errors are
/// what several tests look at.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
}

/// POSTs `body` with a content type; the status and the body.
pub fn post(url: &str, content_type: &str, body: &str) -> (u16, String) {
    let response = agent()
        .post(url)
        .header("Content-Type", content_type)
        .send(body)
        .unwrap();
    let status = response.status().as_u16();
    (status, response.into_body().read_to_string().unwrap())
}
