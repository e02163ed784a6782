//! The declared minimum Rust version is at least every dependency's own.
//!
//! No older toolchain can be installed on the build machine, so the MSRV cannot be proved by
//! building with it. What can be checked: no crate in the lock file declares a `rust-version`
//! above the workspace's (a higher one would fail to build on the declared toolchain), and
//! clippy's `incompatible_msrv` lint (on by default) flags any use of a standard-library API
//! newer than the declared version.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

/// `1.88` and `1.88.0` are the same version: compared as three numbers.
fn version(v: &str) -> Vec<u64> {
    let mut parts: Vec<u64> = v.split('.').map(|p| p.parse().unwrap()).collect();
    parts.resize(3, 0);
    parts
}

#[test]
fn no_dependency_needs_a_newer_rust_than_the_workspace_declares() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Not `--offline`: metadata needs every platform's packages (Windows ones too), which a
    // fresh machine that has only built for Linux has not downloaded; the registry is reachable.
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let packages = metadata["packages"].as_array().unwrap();
    let declared = packages
        .iter()
        .find(|p| p["name"] == "handback")
        .and_then(|p| p["rust_version"].as_str())
        .expect("the workspace declares a rust-version");
    // `#[expect]` (1.81) is used in report.rs: the floor from the language itself.
    assert!(version(declared) >= version("1.81"), "declared {declared}");
    let too_new: Vec<String> = packages
        .iter()
        .filter_map(|p| {
            let needs = p["rust_version"].as_str()?;
            (version(needs) > version(declared))
                .then(|| format!("{} {} needs {needs}", p["name"], p["version"]))
        })
        .collect();
    assert!(
        too_new.is_empty(),
        "the workspace declares rust-version {declared}, but: {}",
        too_new.join("; ")
    );
}
