//! The rule packs compiled into the binary (the default rule set).

pub const VOCABULARY: &str = include_str!("../../../classifier/rules/vocabulary.toml");

/// `(file name, contents)` of each bundled pack.
pub const PACKS: &[(&str, &str)] = &[
    (
        "cn-ecl.toml",
        include_str!("../../../classifier/rules/cn-ecl.toml"),
    ),
    (
        "eu-du.toml",
        include_str!("../../../classifier/rules/eu-du.toml"),
    ),
    (
        "jp-fefta.toml",
        include_str!("../../../classifier/rules/jp-fefta.toml"),
    ),
    (
        "kr-fta.toml",
        include_str!("../../../classifier/rules/kr-fta.toml"),
    ),
    (
        "nl-nat.toml",
        include_str!("../../../classifier/rules/nl-nat.toml"),
    ),
    (
        "us-ear.toml",
        include_str!("../../../classifier/rules/us-ear.toml"),
    ),
];
