//! The policy packs compiled into the binary (the default policy set).

pub const COMMON: &str = include_str!("../../../licensing/policy/common.toml");

/// `(file name, contents)` of each bundled regime pack.
pub const PACKS: &[(&str, &str)] = &[
    (
        "cn-ecl.toml",
        include_str!("../../../licensing/policy/cn-ecl.toml"),
    ),
    (
        "eu-du.toml",
        include_str!("../../../licensing/policy/eu-du.toml"),
    ),
    (
        "eu-du-sanctions.toml",
        include_str!("../../../licensing/policy/eu-du-sanctions.toml"),
    ),
    (
        "jp-fefta.toml",
        include_str!("../../../licensing/policy/jp-fefta.toml"),
    ),
    (
        "jp-fefta-sanctions.toml",
        include_str!("../../../licensing/policy/jp-fefta-sanctions.toml"),
    ),
    (
        "kr-fta.toml",
        include_str!("../../../licensing/policy/kr-fta.toml"),
    ),
    (
        "kr-fta-sanctions.toml",
        include_str!("../../../licensing/policy/kr-fta-sanctions.toml"),
    ),
    (
        "nl-nat.toml",
        include_str!("../../../licensing/policy/nl-nat.toml"),
    ),
    (
        "us-ear.toml",
        include_str!("../../../licensing/policy/us-ear.toml"),
    ),
    (
        "us-ear-chart.toml",
        include_str!("../../../licensing/policy/us-ear-chart.toml"),
    ),
    (
        "us-ear-groups.toml",
        include_str!("../../../licensing/policy/us-ear-groups.toml"),
    ),
    (
        "us-ear-ccl-3.toml",
        include_str!("../../../licensing/policy/us-ear-ccl-3.toml"),
    ),
    (
        "us-ear-ccl-45.toml",
        include_str!("../../../licensing/policy/us-ear-ccl-45.toml"),
    ),
    (
        "us-ear-end-use.toml",
        include_str!("../../../licensing/policy/us-ear-end-use.toml"),
    ),
    (
        "us-ear-regions.toml",
        include_str!("../../../licensing/policy/us-ear-regions.toml"),
    ),
];
