//! Loading the hand-written official-layout fixtures, and load errors.

use exportctl_screening::{DEFAULT_THRESHOLD, DateBasis, Error, ListSource, ScreeningList};
use time::macros::date;

const JSON: &[u8] = include_bytes!("fixtures/csl-small.json");
const CSV: &[u8] = include_bytes!("fixtures/csl-small.csv");

fn check_fixture(list: &ScreeningList) {
    assert_eq!(list.entries().len(), 10);
    let counts = list.counts_by_source();
    assert_eq!(counts[&ListSource::EntityList], 3);
    assert_eq!(counts[&ListSource::DeniedPersons], 1);
    assert_eq!(counts[&ListSource::Sdn], 1);
    assert_eq!(counts[&ListSource::Unverified], 1);
    assert_eq!(counts[&ListSource::MilitaryEndUser], 1);
    assert_eq!(counts[&ListSource::Cmic], 1);
    assert!(list.digest().starts_with("sha256:") && list.digest().len() == 7 + 64);

    let huawei = &list.entries()[0];
    assert_eq!(huawei.name, "Huawei Technologies Co., Ltd.");
    assert_eq!(huawei.alt_names, ["Huawei", "华为技术有限公司"]);
    assert_eq!(huawei.countries, ["CN"]);
    assert_eq!(huawei.start_date, Some(date!(2019 - 05 - 16)));
    assert_eq!(
        huawei.federal_register_notice.as_deref(),
        Some("84 FR 22961")
    );
    assert_eq!(
        huawei.license_policy.as_deref(),
        Some("Presumption of denial.")
    );
    assert_eq!(list.entries()[1].start_date, Some(date!(2020 - 12 - 22)));
    let dpl = &list.entries()[3];
    assert_eq!(dpl.end_date, Some(date!(2035 - 03 - 01)));
    assert_eq!(dpl.countries, ["US"]);
    let sdn = &list.entries()[4];
    assert_eq!(sdn.entity_number.as_deref(), Some("99901"));
    assert_eq!(sdn.party_type.as_deref(), Some("Entity"));
    assert_eq!(sdn.programs, ["RUSSIA-EO14024"]);
    assert_eq!(sdn.start_date, None);
    assert_eq!(list.entries()[9].countries, ["RU"]);

    // Screening through the list.
    let hits = list.screen(
        &["ＨＵＡＷＥＩ ＴＥＣＨＮＯＬＯＧＩＥＳ"],
        DEFAULT_THRESHOLD,
        5,
    );
    assert_eq!(hits[0].entry.name, "Huawei Technologies Co., Ltd.");
    assert!(hits[0].hit.exact);
    let hits = list.screen(&["\u{0405}\u{041C}\u{0406}\u{0421}"], DEFAULT_THRESHOLD, 5);
    assert_eq!(hits[0].entry.list_source(), ListSource::EntityList);
    assert_eq!(hits[0].entry.alt_names, ["SMIC"]);
    let hits = list.screen(&["John Q Exampleperson"], DEFAULT_THRESHOLD, 5);
    assert_eq!(hits[0].entry.list_source(), ListSource::DeniedPersons);
    let hits = list.screen(&["Fixture Microelectronics LLC"], DEFAULT_THRESHOLD, 5);
    assert_eq!(hits[0].entry.list_source(), ListSource::Sdn);
    assert!(
        list.screen(&["Toyota Motor Corporation"], DEFAULT_THRESHOLD, 5)
            .is_empty()
    );
}

#[test]
fn loads_the_json_layout() {
    let list = ScreeningList::load(JSON, "fixtures/csl-small.json").unwrap();
    check_fixture(&list);
    // Latest source_last_updated wins over the label.
    assert_eq!(list.list_date(), Some(date!(2026 - 07 - 30)));
    assert_eq!(list.date_basis(), Some(DateBasis::SourceLastUpdated));
}

#[test]
fn loads_the_csv_layout() {
    let mut list = ScreeningList::load(CSV, "consolidated-screening-list-2026-07-31.csv").unwrap();
    check_fixture(&list);
    assert_eq!(list.list_date(), Some(date!(2026 - 07 - 31)));
    assert_eq!(list.date_basis().map(DateBasis::as_str), Some("file name"));
    list.set_list_date(date!(2026 - 08 - 01));
    assert_eq!(list.date_basis(), Some(DateBasis::Given));
    let plain = ScreeningList::load(CSV, "https://example.invalid/consolidated.csv").unwrap();
    assert_eq!(plain.list_date(), None);
}

fn json_with(result: &str) -> Vec<u8> {
    format!(
        r#"{{"total": 2, "results": [{{"source": "Entity List (EL)", "name": "Good Entry"}}, {result}]}}"#
    )
    .into_bytes()
}

fn row_error(bytes: &[u8], label: &str) -> (usize, String) {
    match ScreeningList::load(bytes, label) {
        Err(e @ Error::Row { .. }) => {
            let text = e.to_string();
            assert!(text.starts_with(label), "{text}");
            let Error::Row { row, .. } = e else {
                unreachable!()
            };
            (row, text)
        }
        other => panic!("expected a row error, got {other:?}"),
    }
}

#[test]
fn invalid_json_rows_are_named() {
    let (row, text) = row_error(
        &json_with(r#"{"source": "Entity List (EL)", "name": "  "}"#),
        "a.json",
    );
    assert_eq!(row, 2);
    assert!(
        text.contains("result 2") && text.contains("empty name"),
        "{text}"
    );
    let (row, text) = row_error(
        &json_with(r#"{"source": "Some Other List (XYZ)", "name": "X"}"#),
        "a.json",
    );
    assert_eq!(row, 2);
    assert!(text.contains("unknown source"), "{text}");
    let (_, text) = row_error(&json_with(r#"{"source": "", "name": "X"}"#), "a.json");
    assert!(text.contains("empty source"), "{text}");
    let (_, text) = row_error(
        &json_with(r#"{"source": "DPL", "name": "X", "start_date": "12/22/2020"}"#),
        "a.json",
    );
    assert!(text.contains("start_date"), "{text}");
}

#[test]
fn invalid_csv_rows_are_named() {
    let csv = "_id,source,name,start_date\n1,Entity List (EL),Good,2020-01-01\n2,Entity List (EL),Also Good,\n3,Nowhere (NOPE),Bad,\n";
    let (row, text) = row_error(csv.as_bytes(), "b.csv");
    assert_eq!(row, 4);
    assert!(text.contains("line 4"), "{text}");
    let csv = "id,source,name,end_date\n1,EL,Good,2020-02-31\n";
    let (row, _) = row_error(csv.as_bytes(), "b.csv");
    assert_eq!(row, 2);
}

#[test]
fn layout_errors() {
    let err = ScreeningList::load(br#"{"total": 0, "results": {"a": 1}}"#, "c.json").unwrap_err();
    assert!(matches!(err, Error::Layout { .. }), "{err}");
    assert!(err.to_string().contains("results"), "{err}");
    let err = ScreeningList::load(br#"{"total": 0, "results": []}"#, "c.json").unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err}");
    let err = ScreeningList::load(b"_id,source,name\n", "c.csv").unwrap_err();
    assert!(matches!(err, Error::Empty { .. }), "{err}");
    let err = ScreeningList::load(b"just,some,columns\n1,2,3\n", "d.csv").unwrap_err();
    assert!(matches!(err, Error::Layout { .. }), "{err}");
    let err = ScreeningList::load(b"{\"results\": [", "e.json").unwrap_err();
    assert!(err.to_string().starts_with("e.json"), "{err}");
    let err = ScreeningList::load(
        br#"{"results": [{"source": "EL", "name": "A"}, {"source": "EL", "name": "B", "alt_names": [}]}"#,
        "f.json",
    )
    .unwrap_err();
    assert!(err.to_string().contains("f.json"), "{err}");
}
