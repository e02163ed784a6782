//! A bounded load test of `handback serve` on loopback: a fixed count of what-if requests (the
//! heaviest question the page asks often: two assessments and two plans each) over 8 keep-alive
//! connections. It checks that every answer is right and that the server's memory levels off,
//! and prints latency percentiles and memory for `docs/performance.md`.
//!
//! Timed, so not part of CI; run it by hand, in release:
//!
//! ```text
//! cargo test --release -p handback-cli --test serve_load -- --ignored --nocapture
//! ```
//!
//! `HANDBACK_LOAD_REQUESTS` changes the count (default 10,000).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::root;
use common::server::{agent, Server};
use serde_json::json;

const CONNECTIONS: usize = 8;

/// The server's resident memory, in KiB (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

#[test]
#[ignore = "a timed load test: run by hand in release (see the module's doc)"]
fn ten_thousand_what_ifs_over_eight_connections() {
    let total: usize = std::env::var("HANDBACK_LOAD_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let server = Server::start(&[]);
    let evidence =
        std::fs::read_to_string(root().join("fixtures/rotherham/2016-08-progress-letter.json")).unwrap();
    let directions = std::fs::read_to_string(root().join("fixtures/rotherham/directions.json")).unwrap();
    // Twenty different questions, as tabs exploring different values would ask.
    let bodies: Vec<String> = (0..20)
        .map(|i| {
            json!({
                "id": i, "op": "whatif", "evidence": evidence, "directions": directions,
                "set": [format!("children.agency_share={}", f64::from(i) / 20.0)],
            })
            .to_string()
        })
        .collect();
    let url = format!("{}api", server.url);

    // Warm up, then take the memory the server settles at.
    for body in &bodies {
        let response = agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .send(body)
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let warm = rss_kib(server.pid());

    let next = AtomicUsize::new(0);
    let errors = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let latencies = Mutex::new(Vec::with_capacity(total));
    let samples = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                samples.lock().unwrap().push(rss_kib(server.pid()));
                std::thread::sleep(Duration::from_millis(250));
            }
        });
        let workers: Vec<_> = (0..CONNECTIONS)
            .map(|_| {
                s.spawn(|| {
                    // One agent per connection: its keep-alive connection is reused.
                    let client = agent();
                    let mut mine = Vec::new();
                    loop {
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        if n >= total {
                            break;
                        }
                        let body = &bodies[n % bodies.len()];
                        let t = Instant::now();
                        let response = client
                            .post(&url)
                            .header("Content-Type", "application/json")
                            .send(body);
                        let ok = match response {
                            Ok(r) if r.status().as_u16() == 200 => {
                                let text = r
                                    .into_body()
                                    .with_config()
                                    .limit(64 << 20)
                                    .read_to_string()
                                    .unwrap();
                                text.starts_with(&format!(
                                    "{{\"api_version\":1,\"id\":{},\"ok\":true",
                                    n % bodies.len()
                                ))
                            }
                            _ => false,
                        };
                        mine.push(t.elapsed());
                        if !ok {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    latencies.lock().unwrap().extend(mine);
                })
            })
            .collect();
        for w in workers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
    });
    let wall = start.elapsed();
    let end = rss_kib(server.pid());
    let mut latencies = latencies.into_inner().unwrap();
    latencies.sort();
    let samples = samples.into_inner().unwrap();
    let peak = samples.iter().copied().max().unwrap_or(end).max(end);
    // Memory after the first and last tenth of the run: levelled off if they agree.
    let tenth = (samples.len() / 10).max(1);
    let early = samples.iter().take(tenth).copied().max().unwrap_or(warm);
    let late = samples.iter().rev().take(tenth).copied().max().unwrap_or(end);

    println!(
        "requests: {total} what-if over {CONNECTIONS} connections, {} errors",
        errors.load(Ordering::Relaxed)
    );
    println!(
        "wall: {:.1} s, {:.0} requests/s, on {} cores",
        wall.as_secs_f64(),
        total as f64 / wall.as_secs_f64(),
        std::thread::available_parallelism().map_or(0, std::num::NonZeroUsize::get)
    );
    println!(
        "latency: p50 {}, p90 {}, p99 {}, p99.9 {}, max {}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 99.9)),
        ms(*latencies.last().unwrap())
    );
    println!(
        "server RSS: {} MiB warm, {} MiB in the first tenth, {} MiB in the last tenth, {} MiB peak, {} MiB at the end",
        warm / 1024,
        early / 1024,
        late / 1024,
        peak / 1024,
        end / 1024
    );
    assert_eq!(
        errors.load(Ordering::Relaxed),
        0,
        "every request is answered, and answered right"
    );
    assert_eq!(latencies.len(), total);
    // Stable memory: the last tenth of the run holds no more than the first tenth plus a margin
    // for the allocator's arenas; a leak of even a few kilobytes a request would exceed it.
    assert!(
        late <= early + early / 4 + 16 * 1024,
        "memory grew from {early} KiB to {late} KiB"
    );
}
