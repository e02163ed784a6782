//! Faults, not bad input: writers killed mid-write, writers racing for the same file, a
//! read-only folder and a full disk never leave half a file behind, never damage an input, and
//! are reported with the path at fault (#15). Every output goes to a temporary file beside the
//! target and is renamed into place; the test hook `HANDBACK_TEST_PAUSE_MID_WRITE_MS` stops the
//! writer halfway through its bytes so a kill or a race lands inside the write every time, and
//! `HANDBACK_TEST_DISK_FULL_AFTER_BYTES` makes the disk fill up. Tests that need root (a real
//! read-only or full file system, mounted for the test) say so and skip without it.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::server::Server;
use common::{handback, root, sheet_in, stderr};

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";
const DIRECTIONS: &str = "fixtures/rotherham/directions.json";

/// A scratch folder named for this file's tests.
fn scratch(name: &str) -> PathBuf {
    common::scratch(&format!("faults-{name}"))
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
    let sheet = sheet_in(&dir);
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

/// Every writing command killed mid-write leaves no file under the target's name (only its
/// temporary file, which nothing reads), and its inputs as they were.
#[test]
fn every_writer_killed_mid_write_leaves_nothing_at_the_target() {
    let dir = scratch("killed-all");
    let sheet = sheet_in(&dir);
    let sheet_bytes = std::fs::read(&sheet).unwrap();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    for (what, args, target) in writers(&out, &sheet) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut child = paused(&args, "30000");
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!target.exists(), "{what}: a partial file was left at the target");
        let left = names(&out);
        assert!(
            left.iter().all(|n| n.starts_with('.') && n.ends_with(".tmp")),
            "{what}: {left:?}"
        );
        assert_eq!(std::fs::read(&sheet).unwrap(), sheet_bytes, "{what}");
    }
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

/// The names in a folder, sorted.
fn names(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs `handback args` with extra environment variables.
fn handback_with(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_handback"));
    command.args(args).current_dir(root());
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().unwrap()
}

/// A tmpfs mounted for a test, unmounted when dropped.
struct Mounted(PathBuf);

impl Mounted {
    /// Mounts a tmpfs of `options` on `dir`, or says why it cannot (not root, no `mount`, not
    /// permitted in this container).
    fn tmpfs(dir: &std::path::Path, options: &str) -> Result<Mounted, String> {
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run `mount`: {e}"))?;
        if o.status.success() {
            Ok(Mounted(dir.to_path_buf()))
        } else {
            Err(format!(
                "`mount -t tmpfs` is not permitted here: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
    }

    fn remount(&self, options: &str) {
        let o = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Every command that writes a file, writing into `out`: (what it is, its arguments, the file
/// it writes). `sheet` is a CSV of the August 2016 record to import.
fn writers(out: &std::path::Path, sheet: &std::path::Path) -> Vec<(&'static str, Vec<String>, PathBuf)> {
    let s = |p: &std::path::Path| p.to_str().unwrap().to_string();
    let strings = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let report = out.join("report.json");
    let imported = out.join("imported.json");
    let scenario = out.join("scenario.json");
    let workbook = out.join("evidence.xlsx");
    let key = out.join("signer");
    let pack = out.join("new-pack");
    let mut all = vec![
        (
            "plan -o",
            strings(&["plan", AUG_2016, "--directions", DIRECTIONS, "-o"]),
            report,
        ),
        (
            "evidence import -o",
            strings(&["evidence", "import", &s(sheet), "-o"]),
            imported,
        ),
        (
            "needs --scenario-out",
            strings(&["needs", AUG_2016, "--target", "rule:children-5", "--scenario-out"]),
            scenario,
        ),
        (
            "evidence export --format xlsx -o",
            strings(&["evidence", "export", AUG_2016, "--format", "xlsx", "-o"]),
            workbook,
        ),
        (
            "keygen -o",
            strings(&["keygen", "--signer", "A. Commissioner", "-o"]),
            key,
        ),
        ("pack init", strings(&["pack", "init"]), pack),
    ];
    for (_, args, target) in &mut all {
        args.push(s(target));
    }
    all
}

/// Checks that every writer, run into `out` (which it cannot write to), fails with exit 4 and a
/// message naming its target and holding `cause`, and that `out` and the inputs are unchanged.
fn every_writer_refused(out: &std::path::Path, sheet: &std::path::Path, cause: &str, env: &[(&str, &str)]) {
    let before = names(out);
    let report = out.join("report.json");
    let previous = std::fs::read(&report).ok();
    let sheet_bytes = std::fs::read(sheet).unwrap();
    for (what, args, target) in writers(out, sheet) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = handback_with(&args, env);
        let message = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{what}: {message}");
        assert!(
            message.contains(&format!("`{}", target.display())) && message.contains(cause),
            "{what}: the message should name the target and say `{cause}`: {message}"
        );
        assert!(
            o.stdout.is_empty(),
            "{what}: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        assert_eq!(names(out), before, "{what}: the folder changed");
        assert_eq!(
            std::fs::read(&report).ok(),
            previous,
            "{what}: the old report changed"
        );
        assert_eq!(
            std::fs::read(sheet).unwrap(),
            sheet_bytes,
            "{what}: an input changed"
        );
    }
}

/// An output folder no one may write to: every writer fails with the path and the reason, exit
/// 4, writes nothing (no temporary file either), and leaves the previous report and the inputs
/// as they were. Permissions do not bind root, so as root the folder is a tmpfs remounted
/// read-only, which binds everyone; without either the test says why it proves less.
#[test]
fn a_read_only_output_folder_is_refused_and_nothing_changes() {
    let dir = scratch("read-only");
    let sheet = sheet_in(&dir);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let _mounted = match Mounted::tmpfs(&out, "size=4m") {
        Ok(m) => Some(m),
        Err(why) => {
            eprintln!("read-only folder by permissions only ({why})");
            None
        }
    };
    let report = out.join("report.json");
    let o = handback(&[
        "plan",
        AUG_2016,
        "--directions",
        DIRECTIONS,
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let cause = if let Some(m) = &_mounted {
        m.remount("ro");
        "Read-only file system"
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).unwrap();
        if std::fs::File::create(out.join("probe")).is_ok() {
            eprintln!(
                "SKIPPED a_read_only_output_folder_is_refused_and_nothing_changes: this user \
                 (root) may write to a read-only folder, and no tmpfs could be mounted to make one \
                 that binds root; a_folder_that_cannot_hold_files_is_refused still runs"
            );
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::remove_dir_all(&dir).unwrap();
            return;
        }
        "Permission denied"
    };
    every_writer_refused(&out, &sheet, cause, &[]);
    drop(_mounted);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An output "folder" that is a file binds every user, root too: the same guarantees as a
/// read-only folder, for a different reason (`Not a directory`).
#[test]
fn a_folder_that_cannot_hold_files_is_refused() {
    let dir = scratch("not-a-folder");
    let sheet = sheet_in(&dir);
    let file = dir.join("plain.txt");
    std::fs::write(&file, "a file, not a folder").unwrap();
    let before = names(&dir);
    for (what, args, target) in writers(&file, &sheet) {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = handback(&args);
        let message = stderr(&o);
        assert_eq!(o.status.code(), Some(4), "{what}: {message}");
        assert!(
            message.contains(&format!("`{}", target.display())),
            "{what}: {message}"
        );
        assert!(message.contains("Not a directory"), "{what}: {message}");
        assert_eq!(names(&dir), before, "{what}");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "a file, not a folder");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A disk that fills up part-way through each writer's bytes (the test hook): exit 4, the
/// target and "no space left", the previous report whole, no temporary file, inputs untouched.
#[test]
fn a_disk_filling_up_mid_write_leaves_the_previous_file_whole() {
    let dir = scratch("disk-full");
    let sheet = sheet_in(&dir);
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let report = out.join("report.json");
    let o = handback(&[
        "plan",
        AUG_2016,
        "--directions",
        DIRECTIONS,
        "-o",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for after in ["0", "1", "100"] {
        every_writer_refused(
            &out,
            &sheet,
            "no space left on device",
            &[("HANDBACK_TEST_DISK_FULL_AFTER_BYTES", after)],
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A real full disk: a 1 MiB tmpfs holding the previous report and filled to within 64 KiB,
/// so the new report (about 290 KB) runs out of room part-way. Needs root; skips without.
#[test]
fn a_real_full_disk_leaves_the_previous_report_whole() {
    let dir = scratch("tmpfs-full");
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    let mounted = match Mounted::tmpfs(&out, "size=1m") {
        Ok(m) => m,
        Err(why) => {
            eprintln!("SKIPPED a_real_full_disk_leaves_the_previous_report_whole: {why}");
            std::fs::remove_dir_all(&dir).unwrap();
            return;
        }
    };
    let report = out.join("report.json");
    let path = report.to_str().unwrap();
    let plan = |known_at: &str| {
        handback(&[
            "plan",
            AUG_2016,
            "--directions",
            DIRECTIONS,
            "--known-at",
            known_at,
            "-o",
            path,
        ])
    };
    let o = plan("2016-08-01");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let previous = std::fs::read(&report).unwrap();
    // Fill the disk, then free 64 KiB: less than the report needs, more than nothing.
    let filler = out.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let block = [0u8; 4096];
        while f.write_all(&block).is_ok() {}
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(64 * 1024)).unwrap();
    }
    let o = plan("2016-08-11");
    let message = stderr(&o);
    assert_eq!(o.status.code(), Some(4), "{message}");
    assert!(
        message.contains(&format!("cannot write `{path}`: No space left on device")),
        "{message}"
    );
    assert_eq!(std::fs::read(&report).unwrap(), previous);
    assert_eq!(names(&out), ["filler", "report.json"]);
    // With room again, the write goes through and the report verifies.
    std::fs::remove_file(&filler).unwrap();
    let o = plan("2016-08-11");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_ne!(std::fs::read(&report).unwrap(), previous);
    let o = handback(&["verify", path, "--directions", DIRECTIONS]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    drop(mounted);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The workbench writes no file: its exports (the report, a scenario) are built in the page
/// from `POST /api` answers and saved by the browser as downloads. What an interrupted export
/// can touch is the server, so: requests cut off halfway through the body and answers
/// abandoned after their first bytes leave the server answering the same bytes, with the same
/// session, as before.
#[test]
fn interrupted_workbench_exports_leave_the_server_as_it_was() {
    use std::io::{Read, Write};
    let server = Server::start(&[AUG_2016, "--directions", DIRECTIONS]);
    let text = |p: &str| std::fs::read_to_string(root().join(p)).unwrap();
    let request =
        serde_json::json!({"op": "report", "evidence": text(AUG_2016), "directions": text(DIRECTIONS)})
            .to_string();
    let (status, before) = server.api(&request);
    assert_eq!(status, 200, "{before}");
    let (_, _, session) = server.get("/api/session", &[]);
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let head = format!(
        "POST /api HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        request.len()
    );
    for _ in 0..8 {
        // The body cut off halfway.
        let mut s = std::net::TcpStream::connect(&address).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&request.as_bytes()[..request.len() / 2]).unwrap();
        drop(s);
        // The whole request, the answer abandoned after its first bytes.
        let mut s = std::net::TcpStream::connect(&address).unwrap();
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut first = [0u8; 64];
        s.read_exact(&mut first).unwrap();
        assert!(
            first.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&first)
        );
        drop(s);
    }
    let (status, after) = server.api(&request);
    assert_eq!(status, 200);
    assert!(after == before, "the report changed after interrupted exports");
    assert_eq!(server.get("/api/session", &[]).2, session);
}
