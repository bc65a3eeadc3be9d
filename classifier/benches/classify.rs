//! In-process classification time with the bundled packs, for realistic specs.
//! Run: `cargo bench -p exportctl-classifier --bench classify`.

use criterion::{Criterion, criterion_group, criterion_main};
use exportctl_classifier::RuleSet;
use exportctl_classifier::convert::spec_facts;
use exportctl_proto::classifier::{ItemKind, ProductSpec};
use std::hint::black_box;

fn specs() -> Vec<(&'static str, ProductSpec)> {
    vec![
        (
            "datacenter_gpu",
            ProductSpec {
                kind: ItemKind::IntegratedCircuit as i32,
                tpp: Some(4992.0),
                transfer_rate_gbps: Some(400.0),
                performance_density: Some(6.0),
                ..Default::default()
            },
        ),
        (
            "arf_immersion_scanner",
            ProductSpec {
                kind: ItemKind::Equipment as i32,
                equipment_function: "lithography".into(),
                wavelength_nm: Some(193.0),
                numerical_aperture: Some(1.35),
                dedicated_chuck_overlay_nm: Some(1.4),
                ..Default::default()
            },
        ),
        (
            "euv_resist",
            ProductSpec {
                kind: ItemKind::Material as i32,
                material: "photoresist".into(),
                resist_tone: "positive".into(),
                wavelength_nm: Some(13.5),
                ..Default::default()
            },
        ),
    ]
}

fn bench(c: &mut Criterion) {
    let rules = RuleSet::bundled().expect("bundled packs load");
    let date = exportctl_core::dates::parse("2024-06-01").unwrap();
    for (name, spec) in specs() {
        let facts = spec_facts(&spec, rules.vocabulary(), "spec").unwrap();
        c.bench_function(&format!("match/{name}"), |b| {
            b.iter(|| black_box(rules.classify(black_box(&facts), date, None)))
        });
        c.bench_function(&format!("validate_and_match/{name}"), |b| {
            b.iter(|| {
                let facts = spec_facts(black_box(&spec), rules.vocabulary(), "spec").unwrap();
                black_box(rules.classify(&facts, date, None).len())
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
