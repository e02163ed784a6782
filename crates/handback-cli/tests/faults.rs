//! Faults, not bad input: writers killed mid-write and writers racing for the same file never
//! leave half a file behind (#15). Every output goes to a temporary file beside the target and
//! is renamed into place; the test hook `HANDBACK_TEST_PAUSE_MID_WRITE_MS` stops the writer
//! halfway through its bytes so a kill or a race lands inside the write every time.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::{handback, root, stderr};

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("handback-faults-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts `handback args` paused halfway through its write, and waits until it says so.
fn paused(args: &[&str], ms: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handback"))
        .args(args)
        .env("HANDBACK_TEST_PAUSE_MID_WRITE_MS", ms)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let said = lines.any(|l| l.unwrap().starts_with("handback: paused mid-write"));
    assert!(said, "{args:?}: the writer never paused");
    // Keep reading what it says after, so its last words do not meet a closed pipe.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

/// `evidence import -o` and `needs --scenario-out`, killed mid-write, leave no file at all.
#[test]
fn imports_and_scenarios_killed_mid_write_leave_nothing() {
    let dir = scratch("killed");
    let sheet = dir.join("evidence.csv");
    let o = handback(&[
        "evidence",
        "export",
        AUG_2016,
        "--format",
        "csv",
        "-o",
        sheet.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let imported = dir.join("imported.json");
    let scenario = dir.join("scenario.json");
    for args in [
        vec![
            "evidence",
            "import",
            sheet.to_str().unwrap(),
            "-o",
            imported.to_str().unwrap(),
        ],
        vec![
            "needs",
            AUG_2016,
            "--target",
            "rule:children-5",
            "--scenario-out",
            scenario.to_str().unwrap(),
        ],
    ] {
        let mut child = paused(&args, "30000");
        child.kill().unwrap();
        child.wait().unwrap();
    }
    assert!(!imported.exists(), "a partial import was left");
    assert!(!scenario.exists(), "a partial scenario was left");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two runs writing the same report at once: the report left is one of the two, whole, and it
/// verifies; never a mixture.
#[test]
fn two_writers_racing_for_one_report_leave_one_whole_report() {
    let dir = scratch("race");
    let out = dir.join("report.json");
    let path = out.to_str().unwrap();
    let expected: Vec<Vec<u8>> = ["2016-08-01", "2016-08-11"]
        .iter()
        .map(|d| {
            let single = dir.join(format!("{d}.json"));
            let o = handback(&["assess", AUG_2016, "--as-of", d, "-o", single.to_str().unwrap()]);
            assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
            std::fs::read(single).unwrap()
        })
        .collect();
    assert_ne!(expected[0], expected[1]);
    let first = paused(&["assess", AUG_2016, "--as-of", "2016-08-01", "-o", path], "1500");
    let second = paused(&["assess", AUG_2016, "--as-of", "2016-08-11", "-o", path], "200");
    for mut child in [first, second] {
        assert!(child.wait().unwrap().success());
    }
    let left = std::fs::read(&out).unwrap();
    assert!(
        expected.contains(&left),
        "the report is neither run's: {} bytes",
        left.len()
    );
    let o = handback(&["verify", path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // No temporary file is left behind.
    let stray: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
