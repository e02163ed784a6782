//! The checked-in C header is what cbindgen makes of the crate's source: a change to the C
//! boundary that forgets the header fails here. `HANDBACK_BLESS=1` rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

#[test]
fn the_header_matches_the_source() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = dir.join("include/handback.h");
    if std::env::var_os("HANDBACK_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/handback.h has drifted from src/lib.rs; regenerate it with \
         HANDBACK_BLESS=1 cargo test -p handback-ffi --test header\n--- generated ---\n{generated}"
    );
    for f in ["handback_request", "handback_free", "handback_version"] {
        assert!(generated.contains(f), "{f} is missing from the header");
    }
}
