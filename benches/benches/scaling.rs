//! How the cost of a bulk assessment grows with the pack and the record: a synthetic pack shaped
//! like Rotherham's (about 24 rules over 18 functions, five of them per function, reading about
//! 60 keys; about 200 observations), and the same shape at 10× and 100× in each of rules,
//! observations and functions separately. Linear growth shows as a ×10 time about 10 times the
//! ×1 time.
//!
//! The pack is generated rather than copied from Rotherham's because its parts must grow
//! independently: 100× Rotherham's rules would need 100× its keys and functions too.
//!
//! `cd benches && cargo bench --bench scaling`.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use handback::bulk::{Indexed, Outcomes};
use handback::{Evidence, Options, Pack, SourceFile};
use serde_json::{json, Value as J};

/// The shape: council-wide rules, per-function rules, functions, observations.
#[derive(Clone, Copy)]
struct Shape {
    council_rules: usize,
    function_rules: usize,
    functions: usize,
    observations: usize,
}

const BASE: Shape = Shape {
    council_rules: 19,
    function_rules: 5,
    functions: 18,
    observations: 200,
};

/// Keys: three council-wide booleans and one number per council rule; one function-scoped
/// boolean per per-function rule.
fn pack(shape: Shape) -> Pack {
    let mut keys = Vec::new();
    for r in 0..shape.council_rules {
        for j in 0..3 {
            keys.push(json!({"key": format!("council.b{r}_{j}"), "type": "boolean", "description": "b", "max_age_days": 365}));
        }
        keys.push(json!({"key": format!("council.n{r}"), "type": "number", "unit": "share", "direction": "lower_is_better", "description": "n", "max_age_days": 365}));
    }
    for r in 0..shape.function_rules {
        keys.push(json!({"key": format!("function.f{r}"), "type": "boolean", "scope": "function", "description": "f"}));
    }
    let mut rules: Vec<J> = Vec::new();
    for r in 0..shape.council_rules {
        let mut parts: Vec<J> = (0..3)
            .map(|j| json!({"key": format!("council.b{r}_{j}"), "op": "==", "value": true}))
            .collect();
        parts.push(json!({"key": format!("council.n{r}"), "op": "<=", "value": 0.25}));
        // Every fifth rule also needs the one before it, as Rotherham's helper rules do.
        if r % 5 == 4 {
            parts.push(json!({"rule": format!("c{}", r - 1)}));
        }
        rules.push(json!({
            "id": format!("c{r}"), "title": "t", "set": "s", "quote": "q",
            "citation": {"source": "s", "at": "a"}, "kind": "test",
            "condition": {"all": parts}
        }));
    }
    for r in 0..shape.function_rules {
        rules.push(json!({
            "id": format!("f{r}"), "title": "t", "set": "s", "quote": "q",
            "citation": {"source": "s", "at": "a"}, "kind": "test", "per_function": true,
            "condition": {"all": [
                {"key": format!("function.f{r}"), "op": "==", "value": true},
                {"rule": format!("c{}", r % shape.council_rules.max(1))}
            ]}
        }));
    }
    let functions: Vec<J> = (0..shape.functions)
        .map(|f| json!({"id": format!("fn{f}"), "title": "f"}))
        .collect();
    let file = |name: &str, v: J| SourceFile {
        name: name.into(),
        label: name.into(),
        text: v.to_string(),
    };
    let files = vec![
        file(
            "pack.json",
            json!({"id": "scaling", "version": "1", "title": "scaling", "sets": [{"id": "s", "title": "s", "citation": {"source": "s", "at": "a"}}], "sources": [{"file": "s", "title": "s", "date": "2018"}]}),
        ),
        file("vocabulary.json", json!({"scales": [], "keys": keys})),
        file("parameters.json", json!({"parameters": []})),
        file("functions.json", json!({"functions": functions})),
        file("rules/r.json", json!({"rules": rules})),
    ];
    Pack::load(&files).unwrap()
}

/// Observations spread over the pack's keys (and functions, for function-scoped keys), on
/// dates through 2017, deterministic.
fn evidence(pack: &Pack, shape: Shape) -> Evidence {
    let keys = pack.keys();
    let mut obs = Vec::new();
    for i in 0..shape.observations {
        let key = &keys[i % keys.len()];
        let day = chrono::NaiveDate::from_ymd_opt(2017, 1, 1).unwrap()
            + chrono::Duration::days(((i / keys.len()) % 365) as i64);
        let value = match key.value_type {
            handback::model::ValueType::Boolean => json!(i % 7 != 0),
            _ => json!((i % 10) as f64 / 20.0),
        };
        let mut o = json!({
            "id": format!("o{i}"), "key": key.key, "value": value,
            "date": day.format("%Y-%m-%d").to_string(),
            "source": {"document": "d", "passage": "p"}
        });
        if key.scope == handback::model::Scope::Function {
            o["function"] = json!(format!("fn{}", (i / keys.len()) % shape.functions.max(1)));
        }
        obs.push(o);
    }
    let text = json!({"council": "Scaling Council", "observations": obs}).to_string();
    Evidence::load(
        pack,
        &SourceFile {
            name: "e.json".into(),
            label: "e.json".into(),
            text,
        },
    )
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let as_of = chrono::NaiveDate::from_ymd_opt(2018, 3, 21).unwrap();
    let mut options = Options::new(as_of);
    options.explain = false;
    let mut group = c.benchmark_group("scaling");
    group.sample_size(20);
    let grow = |what: &str, k: usize| -> Shape {
        let mut s = BASE;
        match what {
            "rules" => {
                s.council_rules *= k;
                s.function_rules *= k;
            }
            "observations" => s.observations *= k,
            "functions" => s.functions *= k,
            _ => {}
        }
        s
    };
    for what in ["rules", "observations", "functions"] {
        for k in [1, 10, 100] {
            let shape = grow(what, k);
            let pack = pack(shape);
            let evidence = evidence(&pack, shape);
            let indexed = Indexed::new(&pack, &evidence);
            let mut out = Outcomes::new();
            group.bench_with_input(BenchmarkId::new(what, k), &k, |b, _| {
                b.iter(|| {
                    indexed.outcomes_into(black_box(&options), &mut out);
                    out.get(0, 0)
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
