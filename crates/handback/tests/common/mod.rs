//! Shared helpers for the integration tests: reading packs and evidence from the repository.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use handback::{Evidence, Pack, SourceFile};

/// The repository root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Every `.json` file under a pack folder, named by its path inside the pack.
pub fn pack_files(dir: &Path) -> Vec<SourceFile> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<SourceFile>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "json") {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push(SourceFile {
                    name,
                    label: path.display().to_string(),
                    text: std::fs::read_to_string(&path).unwrap(),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

pub fn load_pack(relative: &str) -> Pack {
    Pack::load(&pack_files(&root().join(relative))).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub fn source(relative: &str) -> SourceFile {
    let path = root().join(relative);
    SourceFile {
        name: relative.to_string(),
        label: relative.to_string(),
        text: std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}")),
    }
}

pub fn load_evidence(pack: &Pack, relative: &str) -> Evidence {
    Evidence::load(pack, &source(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The seed documents, beside the repository as `../shared/seeds` (or `HANDBACK_SEEDS`).
pub fn seeds_dir() -> PathBuf {
    match std::env::var_os("HANDBACK_SEEDS") {
        Some(dir) => PathBuf::from(dir),
        None => root().join("../shared/seeds"),
    }
}
