//! The rule packs compiled into the binary (the default rule set).

pub const VOCABULARY: &str = include_str!("../rules/vocabulary.toml");

/// `(file name, contents)` of each bundled pack.
pub const PACKS: &[(&str, &str)] = &[
    ("cn-ecl.toml", include_str!("../rules/cn-ecl.toml")),
    ("eu-du.toml", include_str!("../rules/eu-du.toml")),
    ("jp-fefta.toml", include_str!("../rules/jp-fefta.toml")),
    ("kr-fta.toml", include_str!("../rules/kr-fta.toml")),
    ("nl-nat.toml", include_str!("../rules/nl-nat.toml")),
    ("us-ear.toml", include_str!("../rules/us-ear.toml")),
];
