//! The rules of the packs this repository ships, written out as Rust by a build script
//! (`build.rs`, calling `handback::bulk::generate_rust`) and compiled in: what an embedding tool
//! does to assess one pack very many times. Each module's `GENERATED` goes to
//! `handback::bulk::Indexed::outcomes_generated`; the tests hold its outcomes to the
//! interpreter's and the reference evaluator's.

/// The embedded default pack (Rotherham).
pub mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// `fixtures/packs/semantics`.
pub mod semantics {
    include!(concat!(env!("OUT_DIR"), "/semantics.rs"));
}

/// `fixtures/packs/northmoor-children`.
pub mod northmoor {
    include!(concat!(env!("OUT_DIR"), "/northmoor.rs"));
}

/// `benches/packs/seven-tests`.
pub mod seven_tests {
    include!(concat!(env!("OUT_DIR"), "/seven_tests.rs"));
}
