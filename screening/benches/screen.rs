//! Screening time against a synthetic list of ~60,000 names (generated here,
//! with the shape of the real list: company names with common words, legal
//! forms and person names), for a listed name, a disguised one and an
//! unlisted one. Run: `cargo bench -p exportctl-screening --bench screen`.

use criterion::{Criterion, criterion_group, criterion_main};
use exportctl_screening::{DEFAULT_THRESHOLD, NameIndex};
use std::hint::black_box;

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ten", "zhu", "an", "bor", "vel", "qi", "sun", "ra", "dov", "lin", "hao",
    "mar", "tek", "nor", "shi", "yu", "fen", "gra", "pol", "tri", "wei",
];
const COMMON: &[&str] = &[
    "China",
    "Technology",
    "Group",
    "International",
    "Trading",
    "Electronics",
    "Industrial",
    "Shenzhen",
    "Moscow",
    "Tehran",
    "Engineering",
    "Research Institute",
    "Holding",
    "Logistics",
];
const FORMS: &[&str] = &[
    "Co., Ltd.",
    "LLC",
    "JSC",
    "Limited",
    "GmbH",
    "Corporation",
    "",
];

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn word(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let mut w: String = (0..n)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect();
    w[..1].make_ascii_uppercase();
    w
}

fn synthetic_names(count: usize) -> Vec<(usize, String)> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    (0..count)
        .map(|i| {
            let name = if i % 3 == 0 {
                format!(
                    "{} {} {}",
                    word(&mut rng),
                    word(&mut rng),
                    word(&mut rng).to_uppercase()
                )
            } else {
                format!(
                    "{} {} {} {}",
                    COMMON[rng.below(COMMON.len())],
                    word(&mut rng),
                    COMMON[rng.below(COMMON.len())],
                    FORMS[rng.below(FORMS.len())]
                )
            };
            (i / 2, name)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut names = synthetic_names(60_000);
    names.push((
        usize::MAX,
        "Semiconductor Manufacturing International Corporation".to_owned(),
    ));
    names.push((usize::MAX, "SMIC".to_owned()));
    let listed = names[12_345].1.clone();
    c.bench_function("build_60k_names", |b| {
        b.iter_with_large_drop(|| NameIndex::build(black_box(names.clone())))
    });
    let index = NameIndex::build(names);
    let queries = [
        ("listed", listed),
        (
            "disguised_cyrillic",
            "\u{0405}\u{041C}\u{0406}\u{0421}".to_owned(),
        ),
        (
            "disguised_abbreviated",
            "Semiconductor Mfg. Int'l Corp.".to_owned(),
        ),
        ("unlisted", "Toyota Motor Corporation".to_owned()),
    ];
    for (label, query) in &queries {
        assert!(
            (*label == "unlisted") == index.screen(&[query], DEFAULT_THRESHOLD, 10).is_empty(),
            "{label}: {query}"
        );
        c.bench_function(&format!("screen_{label}"), |b| {
            b.iter(|| index.screen(black_box(&[query.as_str()]), DEFAULT_THRESHOLD, 10))
        });
    }
    c.bench_function("build_10_names", |b| {
        let small: Vec<(usize, String)> = synthetic_names(10);
        b.iter(|| NameIndex::build(black_box(small.clone())))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
