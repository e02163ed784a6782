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

fn validate(name: &str, path: &std::path::Path) {
    let schema: serde_json::Value = serde_json::from_str(&stdout(&handback(&["schema", name]))).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let instance: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let errors: Vec<String> = validator.iter_errors(&instance).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{} against `{name}`: {errors:#?}",
        path.display()
    );
}

/// What `pack init` writes, a pack and its example evidence and Directions, validates against
/// the schemas that `schema` prints.
#[test]
fn the_files_pack_init_writes_validate() {
    let dir = std::env::temp_dir().join(format!("handback-schema-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let o = handback(&["pack", "init", dir.to_str().unwrap(), "--id", "northmoor"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for (file, name) in [
        ("pack.json", "pack"),
        ("vocabulary.json", "vocabulary"),
        ("parameters.json", "parameters"),
        ("functions.json", "functions"),
    ] {
        validate(name, &dir.join(file));
    }
    let mut checked = 0;
    for (folder, name) in [
        ("rules", "rules"),
        ("tests", "case"),
        ("tests/evidence", "evidence"),
        ("tests/directions", "directions"),
    ] {
        for entry in std::fs::read_dir(dir.join(folder)).into_iter().flatten() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                validate(name, &path);
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4,
        "pack init wrote {checked} rules, case, evidence and Directions files"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
