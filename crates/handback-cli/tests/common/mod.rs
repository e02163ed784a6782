//! What every command-line test needs: the repository root and the `handback` binary run from it.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Runs `handback` with `args` from the repository root.
pub fn handback(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_handback"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub mod server;
