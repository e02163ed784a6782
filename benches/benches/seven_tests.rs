//! The seven readiness tests for children's social care in four implementations, side by side:
//! a hand-written function (the floor), Handback's bulk mode, zen-engine and Cedar
//! (`handback_benches::seven`).
//!
//! First the agreement check: all four must give the same seven outcomes on 600 evidence sets
//! from a fixed seed, or the benchmark stops. Then each is timed on the same 90 evidence sets,
//! prepared beforehand in its own form (an iteration assesses all 90), and on the first of them
//! alone, assessed again and again. Last, the medians per assessment and their ratios to the
//! floor are printed and written beside criterion's reports
//! (`benches/target/criterion/seven_tests/summary.md`).
//!
//! `cd benches && cargo bench --bench seven_tests` (its own workspace: see `benches/Cargo.toml`)

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::measurement::WallTime;
use criterion::{black_box, BenchmarkGroup, Criterion, Throughput};
use handback_benches::seven::{agreement, evidence_sets, Four, Prepared, Seven, SEED};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Evidence sets the four must agree on.
const AGREEMENT_SETS: usize = 600;
/// Evidence sets each iteration assesses: the first of the agreement sets, a third with every
/// key known.
const TIMED_SETS: usize = 90;
/// The criterion group of the varied sets, and its folder under the output directory.
const GROUP: &str = "seven_tests";
/// The group of one set (the first: every key known), assessed again and again, as a single
/// call would be timed on its own: every branch is then predicted.
const ONE_SET: &str = "seven_tests_one_set";

fn time<S: Seven>(group: &mut BenchmarkGroup<'_, WallTime>, s: &S, inputs: &[S::Input]) {
    group.bench_function(s.name(), |b| {
        b.iter(|| {
            for input in inputs {
                let _ = black_box(s.outcomes(black_box(input)));
            }
        })
    });
}

/// Where criterion writes, decided as criterion decides it by default (`CRITERION_HOME`, else
/// the target directory's `criterion`), so that the summary can read its estimates.
fn output_directory() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .and_then(|out| serde_json::from_slice::<serde_json::Value>(&out.stdout).ok())
        .and_then(|m| m.get("target_directory")?.as_str().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
        .join("criterion")
}

/// The median of one benchmark's run, in nanoseconds per iteration, if it ran since `since` (a
/// run with a filter leaves the other benchmarks' old estimates in place).
fn median_ns(dir: &std::path::Path, group: &str, name: &str, since: SystemTime) -> Option<f64> {
    let path = dir.join(group).join(name).join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let estimates: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    estimates.get("median")?.get("point_estimate")?.as_f64()
}

fn per_assessment(ns: f64) -> String {
    if ns >= 1000.0 {
        format!("{:.2} µs", ns / 1000.0)
    } else {
        format!("{ns:.1} ns")
    }
}

fn main() {
    let four = Four::new().unwrap_or_else(|e| {
        eprintln!("setting up the four implementations: {e}");
        std::process::exit(1)
    });
    let prepared = Prepared::new(&four, evidence_sets(SEED, AGREEMENT_SETS)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    match agreement(&four, &prepared) {
        Ok(a) => println!("{a}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1)
        }
    }

    let dir = output_directory();
    let started = SystemTime::now();
    let mut c = Criterion::default().output_directory(&dir).configure_from_args();
    for (group_name, n) in [(GROUP, TIMED_SETS), (ONE_SET, 1)] {
        let mut group = c.benchmark_group(group_name);
        group
            .sample_size(30)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .throughput(Throughput::Elements(n as u64));
        time(&mut group, &four.floor, prepared.floor.get(..n).unwrap());
        time(&mut group, &four.handback, prepared.handback.get(..n).unwrap());
        time(&mut group, &four.generated, prepared.generated.get(..n).unwrap());
        time(&mut group, &four.zen, prepared.zen.get(..n).unwrap());
        time(&mut group, &four.cedar, prepared.cedar.get(..n).unwrap());
        group.finish();
    }
    c.final_summary();

    let names = [
        four.floor.name(),
        four.handback.name(),
        four.generated.name(),
        four.zen.name(),
        four.cedar.name(),
    ];
    let medians = |group: &str, n: usize| -> Vec<Option<f64>> {
        names
            .iter()
            .map(|name| median_ns(&dir, group, name, started).map(|ns| ns / n as f64))
            .collect()
    };
    let varied = medians(GROUP, TIMED_SETS);
    let one = medians(ONE_SET, 1);
    let cell = |m: Option<f64>, floor: Option<f64>| match (m, floor) {
        (Some(m), Some(floor)) => format!("{} | {:.1}", per_assessment(m), m / floor),
        (Some(m), None) => format!("{} | –", per_assessment(m)),
        _ => "– | –".to_string(),
    };
    if varied.iter().chain(&one).all(Option::is_none) {
        return; // not timed (a filter, or `--test`): nothing to report
    }
    let floor = (varied.first().copied().flatten(), one.first().copied().flatten());
    let mut summary = format!(
        "Median time per assessment of the seven tests: over {TIMED_SETS} varied evidence sets \
         (`{GROUP}`: an iteration assesses all {TIMED_SETS}), and over one set with every key \
         known, repeated (`{ONE_SET}`).\n\n\
         | implementation | {TIMED_SETS} varied sets | × hand-written | one set, repeated | × hand-written |\n\
         | --- | ---: | ---: | ---: | ---: |\n"
    );
    for ((name, v), o) in names.iter().zip(&varied).zip(&one) {
        summary.push_str(&format!(
            "| {name} | {} | {} |\n",
            cell(*v, floor.0),
            cell(*o, floor.1)
        ));
    }
    println!("\n{summary}");
    let path = dir.join(GROUP).join("summary.md");
    if let Err(e) = std::fs::write(&path, &summary) {
        eprintln!("could not write {}: {e}", path.display());
    }
}
