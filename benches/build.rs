//! Writes packs' rules out as Rust (`handback::bulk::generate_rust`): the benchmark pack's, for
//! the seven-tests benchmark's generated row (`src/seven/bulk.rs`), and the embedded default
//! pack's, for the generated bulk assessment in `benches/assess.rs`.

use std::path::Path;

/// The benchmark pack's files, as `src/seven/bulk.rs` embeds them.
const FILES: [&str; 5] = [
    "pack.json",
    "vocabulary.json",
    "parameters.json",
    "functions.json",
    "rules/children.json",
];

fn main() -> Result<(), String> {
    let dir = Path::new("packs/seven-tests");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files = Vec::new();
    for name in FILES {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.push(handback::SourceFile {
            name: name.to_string(),
            label: format!("benches/packs/seven-tests/{name}"),
            text,
        });
    }
    let pack = handback::Pack::load(&files).map_err(|e| e.to_string())?;
    let out = std::env::var("OUT_DIR").map_err(|e| e.to_string())?;
    let path = Path::new(&out).join("seven_tests.rs");
    std::fs::write(&path, handback::bulk::generate_rust(&pack))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let embedded = handback::default_pack().map_err(|e| e.to_string())?;
    let path = Path::new(&out).join("embedded.rs");
    std::fs::write(&path, handback::bulk::generate_rust(&embedded))
        .map_err(|e| format!("{}: {e}", path.display()))
}
