//! The `handback` command end to end: whole processes, started as a user starts them, over the
//! August 2016 progress letter (far from the exit, where `needs` has most to do). The binary is
//! built first from the main workspace (`cargo build --release -p handback-cli`), so the figures
//! are for the code beside this folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use criterion::{black_box, Criterion};

/// The repository root (this folder's parent).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the release binary and says where it is.
fn binary() -> Result<PathBuf, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "handback-cli"])
        .current_dir(root())
        // The main workspace's own target folder, not this one's.
        .env_remove("CARGO_TARGET_DIR")
        .status()
        .map_err(|e| format!("running cargo: {e}"))?;
    if !status.success() {
        return Err(format!("cargo build of handback-cli failed: {status}"));
    }
    let path = root().join("target/release/handback");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!("no binary at {}", path.display()))
    }
}

fn main() {
    let bin = binary().unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let letter = "fixtures/rotherham/2016-08-progress-letter.json";
    let runs: [(&str, Vec<&str>); 5] = [
        ("handback --version", vec!["--version"]),
        ("handback assess", vec!["assess", letter]),
        ("handback plan", vec!["plan", letter]),
        ("handback gaps", vec!["gaps", letter]),
        (
            "handback needs --target exit",
            vec!["needs", "--target", "exit", letter],
        ),
    ];
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("cli");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (name, args) in &runs {
        group.bench_function(*name, |b| {
            b.iter(|| {
                let status = Command::new(&bin)
                    .args(black_box(args))
                    .current_dir(root())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status();
                // Exit codes say what was found (e.g. not ready), not whether it ran.
                black_box(status.map(|s| s.code()))
            })
        });
    }
    group.finish();
    c.final_summary();
}
