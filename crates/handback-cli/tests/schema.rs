//! `handback schema`: every schema by name, exactly as `docs/schemas/` holds it; the names
//! without one; a usage error for an unknown name.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::{handback, root, stderr, stdout};

#[test]
fn schema_prints_each_schema_as_docs_holds_it() {
    for name in handback::schema::NAMES {
        let o = handback(&["schema", name]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let on_disk = std::fs::read_to_string(root().join(format!("docs/schemas/{name}.json"))).unwrap();
        assert_eq!(
            stdout(&o),
            on_disk,
            "`handback schema {name}` differs from docs/schemas"
        );
    }
}

#[test]
fn schema_without_a_name_lists_the_names() {
    let o = handback(&["schema"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let names: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(names, handback::schema::NAMES);
}

#[test]
fn an_unknown_schema_is_a_usage_error_naming_the_choices() {
    let o = handback(&["schema", "evidense"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no schema named `evidense`"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("evidence"), "{}", stderr(&o));
}
