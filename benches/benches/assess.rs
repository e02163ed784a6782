//! How long one assessment takes: the Rotherham pack (24 rules, 18 functions) over the record at
//! the March 2018 milestone (196 observations), with and without reasons, and loading itself.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use handback::{Evidence, Options, Pack, SourceFile};

fn inputs() -> (Pack, Evidence, SourceFile) {
    let pack = handback::default_pack().unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/rotherham/2018-03-exit-recommended.json"
    );
    let file = SourceFile {
        name: "e.json".into(),
        label: "e.json".into(),
        text: std::fs::read_to_string(path).unwrap(),
    };
    let evidence = Evidence::load(&pack, &file).unwrap();
    (pack, evidence, file)
}

fn load(pack: &Pack, name: &str) -> Evidence {
    let path = format!("{}/../fixtures/rotherham/{name}", env!("CARGO_MANIFEST_DIR"));
    let file = SourceFile {
        name: name.into(),
        label: name.into(),
        text: std::fs::read_to_string(path).unwrap(),
    };
    Evidence::load(pack, &file).unwrap()
}

/// The embedded pack's rules as `benches/build.rs` wrote them out.
mod written {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

fn bench(c: &mut Criterion) {
    let (pack, evidence, file) = inputs();
    let as_of = evidence.as_of().unwrap();
    let mut outcomes_only = Options::new(as_of);
    outcomes_only.explain = false;
    let with_reasons = Options::new(as_of);
    c.bench_function("outcomes (no reasons)", |b| {
        b.iter(|| handback::bulk::outcomes(black_box(&pack), black_box(&evidence), &outcomes_only))
    });
    // Indexed once, buffers kept warm: what a loop over dates or parameters pays per point.
    let indexed = handback::bulk::Indexed::new(&pack, &evidence);
    let mut buffers = handback::bulk::Outcomes::new();
    c.bench_function("outcomes, indexed, warm buffers", |b| {
        b.iter(|| {
            indexed.outcomes_into(black_box(&outcomes_only), &mut buffers);
            buffers.get(0, 0)
        })
    });
    // The same, by the embedded pack's rules written out as Rust at build time (`build.rs`).
    assert!(
        written::GENERATED.fits(&pack),
        "the generated code is not the embedded pack's"
    );
    let mut generated = handback::bulk::Outcomes::new();
    c.bench_function("outcomes, indexed, warm buffers, generated code", |b| {
        b.iter(|| {
            indexed.outcomes_generated(black_box(&outcomes_only), &mut generated, &written::GENERATED);
            generated.get(0, 0)
        })
    });
    // One changed observation (agency share 20%, which children's test 6 reads): over the
    // index with only the rules that read it re-evaluated, against applying it to the evidence
    // and assessing afresh, the path a what-if took before.
    let change = [handback::parse_set("children.agency_share=0.2").unwrap()];
    let mut whatif = handback::bulk::WhatIf::new(&indexed, &outcomes_only);
    // And one parameter overridden (the agency share children's test 6 allows): only the rules
    // that read it, and those that refer to them, are evaluated again.
    let param = [handback::Change::Param {
        name: "children_agency_share_max".into(),
        value: serde_json::json!(0.3),
    }];
    for (what, changes) in [
        ("one changed observation", &change),
        ("one parameter overridden", &param),
    ] {
        c.bench_function(&format!("what-if, {what}, over the index"), |b| {
            b.iter(|| {
                whatif
                    .outcomes_into(black_box(changes), "bench", &mut buffers)
                    .unwrap();
                buffers.get(0, 0)
            })
        });
    }
    c.bench_function("what-if, one changed observation, applied and assessed", |b| {
        b.iter(|| {
            let applied = handback::apply(
                &pack,
                &evidence,
                as_of,
                &Default::default(),
                black_box(&change),
                "bench",
            )
            .unwrap();
            handback::bulk::outcomes(&pack, &applied.evidence, &Options::new(applied.as_of))
        })
    });
    c.bench_function("assess with reasons", |b| {
        b.iter(|| handback::assess(black_box(&pack), black_box(&evidence), &with_reasons))
    });
    let assessment = handback::assess(&pack, &evidence, &with_reasons);
    c.bench_function("plan (from an assessment with reasons)", |b| {
        b.iter(|| handback::plan(&pack, black_box(&assessment), None))
    });
    // `needs --target exit` over the progress letter of August 2016, far from the exit, where
    // the search has most to do (the March 2018 record is close to it).
    let far = load(&pack, "2016-08-progress-letter.json");
    let far_options = Options::new(far.as_of().unwrap());
    let mut group = c.benchmark_group("slow");
    group.sample_size(10);
    group.bench_function("needs --target exit (August 2016)", |b| {
        b.iter(|| {
            handback::needs(
                &pack,
                black_box(&far),
                &far_options,
                None,
                &handback::Target::Exit { outcome: None },
            )
        })
    });
    // A million points over two keys, as `handback sweep --max-points 1000000` makes them:
    // the agency share 0..0.999 by 0.001 and the overspend 0..99.9 by 0.1, over the March 2018
    // record, where they move two of the children's tests (four different rows of cells).
    let situation = handback::Situation::new(pack.clone(), evidence.clone(), None, None, None).unwrap();
    let varies = [
        handback::Vary::parse_within("children.agency_share=0..0.999/0.001", 1_000_000).unwrap(),
        handback::Vary::parse_within("children.overspend_gbp_m=0..99.9/0.1", 1_000_000).unwrap(),
    ];
    let limits = handback::Limits {
        max_sweep_points: 1_000_000,
        ..Default::default()
    };
    group.bench_function("sweep, 1,000,000 points, as CSV", |b| {
        b.iter(|| {
            handback::sweep::sweep_csv_with_limits(&situation, black_box(&varies), limits, &mut |_, _| {})
                .unwrap()
                .len()
        })
    });
    group.finish();
    c.bench_function("load pack", |b| {
        b.iter(|| Pack::load(black_box(&handback::default_pack_files())).unwrap())
    });
    c.bench_function("load evidence", |b| {
        b.iter(|| Evidence::load(&pack, black_box(&file)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
