//! Writes out, as Rust, the rules of every pack the repository ships (`handback::bulk::
//! generate_rust`): the embedded default, the fixture packs and the benchmark pack. A build
//! script, as an embedding tool would use one.

use std::path::{Path, PathBuf};

/// The packs written out: the module's name, and the pack folder from the repository root
/// (`None`: the embedded default pack).
const PACKS: [(&str, Option<&str>); 4] = [
    ("embedded", None),
    ("semantics", Some("fixtures/packs/semantics")),
    ("northmoor", Some("fixtures/packs/northmoor-children")),
    ("seven_tests", Some("benches/packs/seven-tests")),
];

/// Every `.json` file under a pack folder, named by its path inside the pack.
fn pack_files(root: &Path, dir: &Path, out: &mut Vec<handback::SourceFile>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("{}: {e}", dir.display()))?.path();
        if path.is_dir() {
            pack_files(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            let name = path
                .strip_prefix(root)
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.push(handback::SourceFile {
                name,
                label: path.display().to_string(),
                text,
            });
        }
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?;
    let root = Path::new(&manifest).join("../..");
    let out = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    for (name, dir) in PACKS {
        let pack = match dir {
            None => handback::default_pack().map_err(|e| e.to_string())?,
            Some(dir) => {
                let dir = root.join(dir);
                println!("cargo:rerun-if-changed={}", dir.display());
                let mut files = Vec::new();
                pack_files(&dir, &dir, &mut files)?;
                files.sort_by(|a, b| a.name.cmp(&b.name));
                handback::Pack::load(&files).map_err(|e| format!("{name}: {e}"))?
            }
        };
        let path = out.join(format!("{name}.rs"));
        std::fs::write(&path, handback::bulk::generate_rust(&pack))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
