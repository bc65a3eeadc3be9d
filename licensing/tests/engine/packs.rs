//! Policy pack validation.

use super::*;

const FILE: &str = "test-pack.toml";

const HEADER: &str = r#"
[pack]
regime = "XX-TEST"
name = "test pack"
version = "1"
source = "test source"
covers_from = "2019-01-01"
home = ["AQ"]
coverage = "entry"
"#;

const GROUP: &str = r#"
[[group]]
group = "G"
countries = ["KR", "JP"]
from = "2019-01-01"
until = "2023-01-01"
citations = ["group cite"]
"#;

const RULE: &str = r#"
[[rule]]
id = "r1"
entries = ["*"]
outcome = "license_required"
destinations = { groups = ["G"] }
from = "2019-01-01"
citations = ["rule cite"]
"#;

const AUTHORIZATION: &str = r#"
[[authorization]]
id = "a1"
code = "general_bulk"
covers = ["r1"]
destinations = { groups = ["G"] }
from = "2019-01-01"
citations = ["authorization cite"]
"#;

fn parse(body: &str) -> Result<RegimePolicy, PolicyError> {
    RegimePolicy::parse(FILE, &format!("{HEADER}{body}"))
}

/// The pack is rejected, naming this file and `rule`, with a message containing `says`.
#[track_caller]
fn rejected(body: &str, rule: &str, says: &str) {
    let e = parse(body).expect_err("the pack should be rejected");
    assert_eq!(e.file, FILE, "{e}");
    assert_eq!(e.rule, rule, "{e}");
    assert!(e.message.contains(says), "{e}");
    let shown = e.to_string();
    assert!(shown.contains(FILE) && shown.contains(rule), "{shown}");
}

#[test]
fn policy_valid_test_pack_parses() {
    let p = parse(&format!("{GROUP}{RULE}{AUTHORIZATION}")).expect("valid");
    assert_eq!(p.regime, "XX-TEST");
    assert_eq!(p.file, FILE);
    assert_eq!(p.groups_of("KR", day("2022-12-31")), ["G"]);
    assert!(p.groups_of("KR", day("2023-01-01")).is_empty());
    // Adjacent half-open memberships do not overlap.
    let adjacent = "[[group]]\ngroup = \"G\"\ncountries = [\"KR\"]\nfrom = \"2023-01-01\"\ncitations = [\"c\"]\n";
    let p = parse(&format!("{GROUP}{adjacent}{RULE}")).expect("adjacent memberships are fine");
    assert_eq!(p.groups_of("KR", day("2023-01-01")), ["G"]);
}

#[test]
fn policy_rejects_inverted_date_ranges() {
    let rule = RULE.replace(
        "from = \"2019-01-01\"",
        "from = \"2024-01-01\"\nuntil = \"2023-01-01\"",
    );
    rejected(&format!("{GROUP}{rule}"), "r1", "inverted date range");
    let empty = RULE.replace(
        "from = \"2019-01-01\"",
        "from = \"2024-01-01\"\nuntil = \"2024-01-01\"",
    );
    rejected(&format!("{GROUP}{empty}"), "r1", "inverted date range");
    let group = GROUP.replace("until = \"2023-01-01\"", "until = \"2018-01-01\"");
    rejected(&group, "group G", "inverted date range");
    let auth = AUTHORIZATION.replace(
        "from = \"2019-01-01\"",
        "from = \"2020-01-01\"\nuntil = \"2019-06-01\"",
    );
    rejected(&format!("{GROUP}{RULE}{auth}"), "a1", "inverted date range");
    let bad_date = RULE.replace("2019-01-01", "2023-02-30");
    rejected(&format!("{GROUP}{bad_date}"), "r1", "from:");
}

#[test]
fn policy_rejects_unknown_groups() {
    let rule = RULE.replace("groups = [\"G\"]", "groups = [\"Group Z\"]");
    rejected(&format!("{GROUP}{rule}"), "r1", "unknown group `Group Z`");
    let except = RULE.replace(
        "groups = [\"G\"]",
        "all = true, except_groups = [\"Group Z\"]",
    );
    rejected(&format!("{GROUP}{except}"), "r1", "unknown group `Group Z`");
    let end_use = r#"
[[end_use]]
id = "e1"
items = "all"
outcome = "license_required"
destinations = { all = true }
purposes = ["military"]
owner_policies = [{ owner_groups = ["Group Z"], review_policy = "case_by_case" }]
from = "2019-01-01"
citations = ["end use cite"]
"#;
    rejected(
        &format!("{GROUP}{end_use}"),
        "e1",
        "unknown group `Group Z`",
    );
}

#[test]
fn policy_rejects_restriction_of_unknown_authorization() {
    let restriction = r#"
[[restriction]]
id = "x1"
authorizations = ["a1", "a2"]
entries = ["*"]
destinations = { countries = ["KR"] }
from = "2019-01-01"
citations = ["restriction cite"]
"#;
    rejected(
        &format!("{GROUP}{RULE}{AUTHORIZATION}{restriction}"),
        "x1",
        "restricts unknown authorization `a2`",
    );
    // An authorization covering no rule of the pack is refused too.
    let dangling = AUTHORIZATION.replace("covers = [\"r1\"]", "covers = [\"r9*\"]");
    rejected(&format!("{GROUP}{RULE}{dangling}"), "a1", "names no rule");
}

#[test]
fn policy_rejects_overlapping_group_memberships() {
    let overlapping = GROUP
        .replace(
            "countries = [\"KR\", \"JP\"]",
            "countries = [\"CN\", \"JP\"]",
        )
        .replace("from = \"2019-01-01\"", "from = \"2022-06-01\"")
        .replace("until = \"2023-01-01\"\n", "");
    rejected(
        &format!("{GROUP}{overlapping}"),
        "group G",
        "overlapping memberships for JP",
    );
}

#[test]
fn policy_rejects_bad_country_codes() {
    let group = GROUP.replace("\"KR\"", "\"KOR\"");
    rejected(&group, "group G", "`KOR` is not an ISO 3166-1 alpha-2 code");
    let rule = RULE.replace("groups = [\"G\"]", "countries = [\"cn\"]");
    rejected(&format!("{GROUP}{rule}"), "r1", "`cn` is not an ISO 3166-1");
    let party = r#"
[[party]]
id = "p1"
list = "entity_list"
name = "Example Listed Co."
country = "China"
outcome = "license_required"
from = "2019-01-01"
citations = ["party cite"]
"#;
    rejected(party, "p1", "`China` is not an ISO 3166-1");
    let e = RegimePolicy::parse(FILE, &HEADER.replace("[\"AQ\"]", "[\"X1\"]")).expect_err("home");
    assert_eq!((e.file.as_str(), e.rule.as_str()), (FILE, "pack"));
}

#[test]
fn policy_rejects_duplicate_rule_ids() {
    rejected(&format!("{GROUP}{RULE}{RULE}"), "r1", "duplicate rule id");
    // Ids are unique across rules, parties, end uses, authorizations and restrictions.
    let auth = AUTHORIZATION.replace("id = \"a1\"", "id = \"r1\"");
    rejected(&format!("{GROUP}{RULE}{auth}"), "r1", "duplicate rule id");
}

#[test]
fn policy_rejects_missing_citations() {
    let none = RULE.replace("citations = [\"rule cite\"]", "citations = []");
    rejected(&format!("{GROUP}{none}"), "r1", "citation");
    let blank = RULE.replace("citations = [\"rule cite\"]", "citations = [\"  \"]");
    rejected(&format!("{GROUP}{blank}"), "r1", "non-empty citation");
    let group = GROUP.replace("citations = [\"group cite\"]", "citations = []");
    rejected(&group, "group G", "citation");
    let auth = AUTHORIZATION.replace("citations = [\"authorization cite\"]", "citations = []");
    rejected(&format!("{GROUP}{RULE}{auth}"), "a1", "citation");
}

#[test]
fn policy_missing_citation_key_names_the_rule() {
    let absent = RULE.replace("citations = [\"rule cite\"]\n", "");
    rejected(&format!("{GROUP}{absent}"), "r1", "citation");
}

#[test]
fn policy_rejects_blank_group_citation() {
    let group = GROUP.replace("citations = [\"group cite\"]", "citations = [\"\"]");
    rejected(&group, "group G", "citation");
}

fn source(file: &str, text: &str) -> policy::Source {
    policy::Source {
        file: file.into(),
        text: text.into(),
    }
}

const COMMON: &str = r#"
[common]
version = "1"

[[applicability]]
export_countries = ["AQ"]
regimes = ["XX-TEST"]
citations = ["applicability cite"]
"#;

#[test]
fn policy_set_errors_name_file_and_rule() {
    let good = source(FILE, &format!("{HEADER}{GROUP}{RULE}"));
    let set = PolicySet::from_sources(&source("common.toml", COMMON), std::slice::from_ref(&good))
        .expect("valid");
    assert_eq!(set.applicable_regimes("AQ", "BV"), ["XX-TEST"]);
    // A bad pack among good ones: its own file and rule.
    let bad = source(
        "bad-pack.toml",
        &format!(
            "{}{GROUP}{RULE}{RULE}",
            HEADER.replace("XX-TEST", "YY-TEST")
        ),
    );
    let e = PolicySet::from_sources(&source("common.toml", COMMON), &[good.clone(), bad])
        .expect_err("duplicate id");
    assert_eq!((e.file.as_str(), e.rule.as_str()), ("bad-pack.toml", "r1"));
    // Two packs for one regime.
    let twin = source("twin.toml", &good.text);
    let e = PolicySet::from_sources(&source("common.toml", COMMON), &[good.clone(), twin])
        .expect_err("twin");
    assert_eq!(e.file, "twin.toml");
    assert!(e.message.contains(FILE), "{e}");
    // The common file: unknown regime, and an advisory without a citation.
    let unknown = COMMON.replace("regimes = [\"XX-TEST\"]", "regimes = [\"ZZ-NONE\"]");
    let e = PolicySet::from_sources(
        &source("common.toml", &unknown),
        std::slice::from_ref(&good),
    )
    .expect_err("unknown regime");
    assert_eq!(
        (e.file.as_str(), e.rule.as_str()),
        ("common.toml", "applicability")
    );
    assert!(e.message.contains("ZZ-NONE"));
    let advisory = format!(
        "{COMMON}\n[[advisory]]\ncode = \"ADV-1\"\nauthority = \"T\"\ntext = \"t\"\ndestinations = {{ countries = [\"CN\"] }}\nfrom = \"2023-01-01\"\ncitations = []\n"
    );
    let e = PolicySet::from_sources(&source("common.toml", &advisory), &[good])
        .expect_err("uncited advisory");
    assert_eq!((e.file.as_str(), e.rule.as_str()), ("common.toml", "ADV-1"));
}

#[test]
fn bundled_packs_are_valid_and_cover_every_applicable_regime() {
    let set = &*POLICIES;
    for row in &set.applicability {
        for r in &row.regimes {
            assert!(set.regimes.contains_key(r), "{r}");
        }
    }
    for r in [US, JP, KR, EU, NL, CN] {
        assert!(set.regimes.contains_key(r), "{r}");
        assert!(RULES.pack(r).is_some(), "classifier has no {r} pack");
    }
    assert!(set.digest.starts_with("sha256:"));
}
