//! The Consolidated Screening List: loading the official JSON and CSV
//! downloads from bytes, and screening party names against the entries.
//!
//! The layout is detected from content: a first non-whitespace byte `{` is
//! the JSON download (`{"total", "sources_used", "results": [...]}`), anything
//! else the CSV download (a header row, lists joined by `; `). Loading is all
//! or nothing: a list that fails validation returns an [`Error`] naming the
//! label and the row (1-based result index in JSON, line number in CSV), and
//! the caller keeps the list it had.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use sha2::{Digest, Sha256};
use time::Date;

use crate::Error;
use crate::index::{NameHit, NameIndex};

/// The list an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ListSource {
    EntityList,
    DeniedPersons,
    Unverified,
    MilitaryEndUser,
    Sdn,
    ItarDebarred,
    Nonproliferation,
    SectoralSanctions,
    Cmic,
    NsMbs,
    Plc,
    Capta,
}

impl ListSource {
    pub const ALL: [ListSource; 12] = [
        ListSource::EntityList,
        ListSource::DeniedPersons,
        ListSource::Unverified,
        ListSource::MilitaryEndUser,
        ListSource::Sdn,
        ListSource::ItarDebarred,
        ListSource::Nonproliferation,
        ListSource::SectoralSanctions,
        ListSource::Cmic,
        ListSource::NsMbs,
        ListSource::Plc,
        ListSource::Capta,
    ];

    /// The short code the official `source` text gives in parentheses.
    pub fn code(self) -> &'static str {
        match self {
            ListSource::EntityList => "EL",
            ListSource::DeniedPersons => "DPL",
            ListSource::Unverified => "UVL",
            ListSource::MilitaryEndUser => "MEU",
            ListSource::Sdn => "SDN",
            ListSource::ItarDebarred => "DTC",
            ListSource::Nonproliferation => "ISN",
            ListSource::SectoralSanctions => "SSI",
            ListSource::Cmic => "CMIC",
            ListSource::NsMbs => "NS-MBS",
            ListSource::Plc => "PLC",
            ListSource::Capta => "CAP",
        }
    }

    /// The list's name.
    pub fn label(self) -> &'static str {
        match self {
            ListSource::EntityList => "Entity List",
            ListSource::DeniedPersons => "Denied Persons List",
            ListSource::Unverified => "Unverified List",
            ListSource::MilitaryEndUser => "Military End User List",
            ListSource::Sdn => "Specially Designated Nationals",
            ListSource::ItarDebarred => "ITAR Debarred",
            ListSource::Nonproliferation => "Nonproliferation Sanctions",
            ListSource::SectoralSanctions => "Sectoral Sanctions Identifications List",
            ListSource::Cmic => "Non-SDN Chinese Military-Industrial Complex Companies List",
            ListSource::NsMbs => "Non-SDN Menu-Based Sanctions List",
            ListSource::Plc => "Palestinian Legislative Council List",
            ListSource::Capta => "Capta List",
        }
    }

    /// Reads the official `source` text: the parenthesised abbreviation
    /// (`Entity List (EL) - Bureau of Industry and Security`,
    /// `(NS-MBS List)`), else a bare code, else the list's name.
    pub fn from_text(text: &str) -> Option<ListSource> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Some(open) = text.find('(')
            && let Some(close) = text[open..].find(')')
        {
            let inner = text[open + 1..open + close].trim();
            let inner = inner.strip_suffix(" List").unwrap_or(inner);
            if let Some(source) = Self::from_code(inner) {
                return Some(source);
            }
        }
        if let Some(source) = Self::from_code(text) {
            return Some(source);
        }
        let lower = text.to_ascii_lowercase();
        const NAMES: &[(&str, ListSource)] = &[
            ("entity list", ListSource::EntityList),
            ("denied persons", ListSource::DeniedPersons),
            ("unverified", ListSource::Unverified),
            ("military end user", ListSource::MilitaryEndUser),
            ("specially designated", ListSource::Sdn),
            ("debarred", ListSource::ItarDebarred),
            ("nonproliferation", ListSource::Nonproliferation),
            ("sectoral sanctions", ListSource::SectoralSanctions),
            ("military-industrial complex", ListSource::Cmic),
            ("menu-based", ListSource::NsMbs),
            ("palestinian legislative", ListSource::Plc),
            ("capta", ListSource::Capta),
        ];
        NAMES
            .iter()
            .find(|(name, _)| lower.contains(name))
            .map(|&(_, source)| source)
    }

    fn from_code(code: &str) -> Option<ListSource> {
        Self::ALL
            .into_iter()
            .find(|s| s.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for ListSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One entry of the list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListedParty {
    pub id: Option<String>,
    pub source: Option<ListSource>,
    pub name: String,
    pub alt_names: Vec<String>,
    /// Countries of the addresses, then nationalities and citizenships,
    /// without repeats (ISO codes where the list gives them).
    pub countries: Vec<String>,
    pub party_type: Option<String>,
    pub programs: Vec<String>,
    pub entity_number: Option<String>,
    pub federal_register_notice: Option<String>,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub license_requirement: Option<String>,
    pub license_policy: Option<String>,
    pub remarks: Option<String>,
    pub source_list_url: Option<String>,
}

impl ListedParty {
    /// The entry's source (always set for a loaded entry).
    pub fn list_source(&self) -> ListSource {
        self.source.unwrap_or(ListSource::Sdn)
    }
}

/// Where the list date came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateBasis {
    /// The latest `sources_used[].source_last_updated`.
    SourceLastUpdated,
    /// A `YYYY-MM-DD` in the label (the file name).
    FileName,
    /// Set by the caller (file mtime, HTTP Last-Modified).
    Given,
}

impl DateBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            DateBasis::SourceLastUpdated => "source_last_updated",
            DateBasis::FileName => "file name",
            DateBasis::Given => "given",
        }
    }
}

/// A hit of [`ScreeningList::screen`]: the entry and the name hit.
#[derive(Clone, Debug)]
pub struct ListHit<'a> {
    pub entry: &'a ListedParty,
    pub hit: NameHit,
}

/// A loaded, validated and indexed screening list.
#[derive(Debug)]
pub struct ScreeningList {
    label: String,
    list_date: Option<Date>,
    date_basis: Option<DateBasis>,
    digest: String,
    entries: Vec<ListedParty>,
    counts: BTreeMap<ListSource, usize>,
    index: NameIndex,
}

impl ScreeningList {
    /// Loads the official JSON or CSV download from `bytes`; `label` (the
    /// file name or URL) names it in errors and may give the list date.
    pub fn load(bytes: &[u8], label: &str) -> Result<ScreeningList, Error> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let (entries, updated) = if first == Some(&b'{') {
            load_json(bytes, label)?
        } else {
            (load_csv(bytes, label)?, None)
        };
        if entries.is_empty() {
            return Err(Error::Empty {
                label: label.to_owned(),
            });
        }
        let (list_date, date_basis) = match updated {
            Some(date) => (Some(date), Some(DateBasis::SourceLastUpdated)),
            None => match date_in_label(label) {
                Some(date) => (Some(date), Some(DateBasis::FileName)),
                None => (None, None),
            },
        };
        let mut counts = BTreeMap::new();
        for entry in &entries {
            *counts.entry(entry.list_source()).or_insert(0) += 1;
        }
        let index = NameIndex::build(entries.iter().enumerate().flat_map(|(i, e)| {
            std::iter::once((i, e.name.clone()))
                .chain(e.alt_names.iter().map(move |a| (i, a.clone())))
        }));
        Ok(ScreeningList {
            label: label.to_owned(),
            list_date,
            date_basis,
            digest: format!("sha256:{}", hex::encode(Sha256::digest(bytes))),
            entries,
            counts,
            index,
        })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    /// The name the list goes by in explanations and metrics: the last path
    /// segment of its label (file name, or URL path without query).
    pub fn short_label(&self) -> &str {
        let path = self.label.split(['?', '#']).next().unwrap_or(&self.label);
        let path = path.trim_end_matches(['/', '\\']);
        path.rsplit(['/', '\\']).next().unwrap_or(path)
    }

    /// The list's date, if the list or its label gave one (or it was set).
    pub fn list_date(&self) -> Option<Date> {
        self.list_date
    }

    pub fn date_basis(&self) -> Option<DateBasis> {
        self.date_basis
    }

    /// Sets the list date from outside (file mtime, HTTP Last-Modified).
    pub fn set_list_date(&mut self, date: Date) {
        self.list_date = Some(date);
        self.date_basis = Some(DateBasis::Given);
    }

    /// `sha256:<hex>` of the bytes loaded.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn entries(&self) -> &[ListedParty] {
        &self.entries
    }

    /// Number of entries per source.
    pub fn counts_by_source(&self) -> &BTreeMap<ListSource, usize> {
        &self.counts
    }

    /// The name index (names and aliases, owner = entry index).
    pub fn index(&self) -> &NameIndex {
        &self.index
    }

    /// Screens a party's names (name and aliases): the best hit per entry at
    /// or above `threshold` (exact hits always), ranked, at most `limit`.
    pub fn screen(&self, names: &[&str], threshold: f64, limit: usize) -> Vec<ListHit<'_>> {
        self.index
            .screen(names, threshold, limit)
            .into_iter()
            .map(|hit| ListHit {
                entry: &self.entries[hit.owner],
                hit,
            })
            .collect()
    }
}

/// Parses `YYYY-MM-DD`, or the date part of an ISO timestamp.
pub(crate) fn parse_date(text: &str) -> Option<Date> {
    let text = text.trim();
    let date = match text.as_bytes().get(10) {
        None => text,
        Some(b'T' | b't' | b' ') => &text[..10],
        Some(_) => return None,
    };
    let bytes = date.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &date[range];
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?;
    let day = u8::try_from(number(8..10)?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// The last `YYYY-MM-DD` in the label that is a real date.
fn date_in_label(label: &str) -> Option<Date> {
    let bytes = label.as_bytes();
    (0..bytes.len().saturating_sub(9))
        .rev()
        .filter(|&i| label.is_char_boundary(i) && label.is_char_boundary(i + 10))
        .find_map(|i| {
            let before_ok = i == 0 || !bytes[i - 1].is_ascii_digit();
            let after_ok = bytes.get(i + 10).is_none_or(|b| !b.is_ascii_digit());
            (before_ok && after_ok).then(|| parse_date(&label[i..i + 10]))?
        })
}

fn row_error(label: &str, kind: &'static str, row: usize, reason: impl Into<String>) -> Error {
    Error::Row {
        label: label.to_owned(),
        kind,
        row,
        reason: reason.into(),
    }
}

/// Raw fields of one entry, shared by both layouts before validation.
#[derive(Default)]
struct RawEntry {
    id: Option<String>,
    source: Option<String>,
    entity_number: Option<String>,
    party_type: Option<String>,
    programs: Vec<String>,
    name: Option<String>,
    countries: Vec<String>,
    federal_register_notice: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    license_requirement: Option<String>,
    license_policy: Option<String>,
    remarks: Option<String>,
    source_list_url: Option<String>,
    alt_names: Vec<String>,
}

fn validate(
    raw: RawEntry,
    label: &str,
    kind: &'static str,
    row: usize,
) -> Result<ListedParty, Error> {
    let name = raw.name.map(|n| n.trim().to_owned()).unwrap_or_default();
    if name.is_empty() {
        return Err(row_error(label, kind, row, "empty name"));
    }
    let source_text = raw.source.unwrap_or_default();
    if source_text.trim().is_empty() {
        return Err(row_error(label, kind, row, "empty source"));
    }
    let source = ListSource::from_text(&source_text)
        .ok_or_else(|| row_error(label, kind, row, format!("unknown source {source_text:?}")))?;
    let date = |field: &str, value: Option<String>| -> Result<Option<Date>, Error> {
        match value.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => parse_date(text).map(Some).ok_or_else(|| {
                row_error(
                    label,
                    kind,
                    row,
                    format!("{field} {text:?} is not a YYYY-MM-DD date"),
                )
            }),
        }
    };
    let start_date = date("start_date", raw.start_date)?;
    let end_date = date("end_date", raw.end_date)?;
    let mut countries: Vec<String> = Vec::new();
    for country in raw.countries {
        let country = country.trim();
        if !country.is_empty() && !countries.iter().any(|c| c == country) {
            countries.push(country.to_owned());
        }
    }
    let clean = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let list = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    Ok(ListedParty {
        id: clean(raw.id),
        source: Some(source),
        name,
        alt_names: list(raw.alt_names),
        countries,
        party_type: clean(raw.party_type),
        programs: list(raw.programs),
        entity_number: clean(raw.entity_number),
        federal_register_notice: clean(raw.federal_register_notice),
        start_date,
        end_date,
        license_requirement: clean(raw.license_requirement),
        license_policy: clean(raw.license_policy),
        remarks: clean(raw.remarks),
        source_list_url: clean(raw.source_list_url),
    })
}

// ---------------------------------------------------------------- JSON

/// A scalar read leniently: strings, numbers and booleans as text; null,
/// arrays and objects as nothing.
#[derive(Default)]
struct Text(Option<String>);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(Some(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Text, E> {
                Ok(Text(Some(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Text, E> {
                Ok(Text(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Text, D::Error> {
                Text::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// A list read leniently: an array of scalars (objects in it are skipped), a
/// single string (split on `;`), or null.
#[derive(Default)]
struct TextList(Vec<String>);

impl<'de> Deserialize<'de> for TextList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TextList, A::Error> {
                let mut out = Vec::new();
                while let Some(Text(item)) = seq.next_element::<Text>()? {
                    out.extend(item);
                }
                Ok(TextList(out))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TextList, E> {
                Ok(TextList(split_list(v)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<TextList, E> {
                Ok(TextList::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<TextList, E> {
                Ok(TextList::default())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<TextList, D::Error> {
                TextList::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextList, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(TextList::default())
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<TextList, E> {
                Ok(TextList(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<TextList, E> {
                Ok(TextList(vec![v.to_string()]))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<TextList, E> {
                Ok(TextList::default())
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<TextList, E> {
                Ok(TextList::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// The countries of an `addresses` value: the `country` of each object, or
/// the trailing country code of each address string.
#[derive(Default)]
struct Countries(Vec<String>);

impl<'de> Deserialize<'de> for Countries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Address {
            #[serde(default)]
            country: Text,
        }
        enum Item {
            Country(Option<String>),
        }
        impl<'de> Deserialize<'de> for Item {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Item;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("an address")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Item, A::Error> {
                        let address =
                            Address::deserialize(de::value::MapAccessDeserializer::new(map))?;
                        Ok(Item::Country(address.country.0))
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<Item, E> {
                        Ok(Item::Country(country_of_address(v)))
                    }
                    fn visit_unit<E: de::Error>(self) -> Result<Item, E> {
                        Ok(Item::Country(None))
                    }
                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Item, A::Error> {
                        while seq.next_element::<IgnoredAny>()?.is_some() {}
                        Ok(Item::Country(None))
                    }
                    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Item, E> {
                        Ok(Item::Country(None))
                    }
                    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Item, E> {
                        Ok(Item::Country(None))
                    }
                    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Item, E> {
                        Ok(Item::Country(None))
                    }
                    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Item, E> {
                        Ok(Item::Country(None))
                    }
                }
                d.deserialize_any(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Countries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of addresses")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Countries, A::Error> {
                let mut out = Vec::new();
                while let Some(Item::Country(c)) = seq.next_element::<Item>()? {
                    out.extend(c);
                }
                Ok(Countries(out))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Countries, E> {
                Ok(Countries(
                    split_list(v)
                        .iter()
                        .filter_map(|a| country_of_address(a))
                        .collect(),
                ))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Countries, E> {
                Ok(Countries::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Countries, A::Error> {
                let address = Address::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Countries(address.country.0.into_iter().collect()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct JsonResult {
    #[serde(default, alias = "_id")]
    id: Text,
    #[serde(default)]
    source: Text,
    #[serde(default)]
    entity_number: Text,
    #[serde(default, rename = "type")]
    party_type: Text,
    #[serde(default)]
    programs: TextList,
    #[serde(default)]
    name: Text,
    #[serde(default)]
    addresses: Countries,
    #[serde(default)]
    federal_register_notice: Text,
    #[serde(default)]
    start_date: Text,
    #[serde(default)]
    end_date: Text,
    #[serde(default)]
    license_requirement: Text,
    #[serde(default)]
    license_policy: Text,
    #[serde(default)]
    remarks: Text,
    #[serde(default)]
    source_list_url: Text,
    #[serde(default)]
    alt_names: TextList,
    #[serde(default)]
    citizenships: TextList,
    #[serde(default)]
    nationalities: TextList,
}

/// `results`, read element by element so that an error names its index.
struct Results(Vec<JsonResult>);

impl<'de> Deserialize<'de> for Results {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Results;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`results` to be an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Results, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                loop {
                    match seq.next_element::<JsonResult>() {
                        Ok(Some(result)) => out.push(result),
                        Ok(None) => return Ok(Results(out)),
                        Err(e) => {
                            return Err(de::Error::custom(format!(
                                "result {}: {e}",
                                out.len() + 1
                            )));
                        }
                    }
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct SourceUsed {
    #[serde(default)]
    source_last_updated: Text,
}

#[derive(Deserialize)]
struct JsonList {
    results: Option<Results>,
    #[serde(default)]
    sources_used: Option<Vec<SourceUsed>>,
}

fn load_json(bytes: &[u8], label: &str) -> Result<(Vec<ListedParty>, Option<Date>), Error> {
    let list: JsonList = serde_json::from_slice(bytes).map_err(|e| Error::Layout {
        label: label.to_owned(),
        reason: format!("JSON: {e}"),
    })?;
    let results = list.results.ok_or_else(|| Error::Layout {
        label: label.to_owned(),
        reason: "JSON without `results`".to_owned(),
    })?;
    let updated = list
        .sources_used
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.source_last_updated.0.as_deref().and_then(parse_date))
        .max();
    let mut entries = Vec::with_capacity(results.0.len());
    for (i, r) in results.0.into_iter().enumerate() {
        let mut countries = r.addresses.0;
        countries.extend(r.nationalities.0);
        countries.extend(r.citizenships.0);
        let raw = RawEntry {
            id: r.id.0,
            source: r.source.0,
            entity_number: r.entity_number.0,
            party_type: r.party_type.0,
            programs: r.programs.0,
            name: r.name.0,
            countries,
            federal_register_notice: r.federal_register_notice.0,
            start_date: r.start_date.0,
            end_date: r.end_date.0,
            license_requirement: r.license_requirement.0,
            license_policy: r.license_policy.0,
            remarks: r.remarks.0,
            source_list_url: r.source_list_url.0,
            alt_names: r.alt_names.0,
        };
        entries.push(validate(raw, label, "result", i + 1)?);
    }
    Ok((entries, updated))
}

// ----------------------------------------------------------------- CSV

/// Splits a `; `-joined list.
fn split_list(text: &str) -> Vec<String> {
    text.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The country of an address string: its last comma-separated component
/// when that is a two-letter code.
fn country_of_address(address: &str) -> Option<String> {
    let last = address.rsplit(',').next()?.trim();
    (last.len() == 2 && last.bytes().all(|b| b.is_ascii_alphabetic()))
        .then(|| last.to_ascii_uppercase())
}

fn load_csv(bytes: &[u8], label: &str) -> Result<Vec<ListedParty>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let layout = |reason: String| Error::Layout {
        label: label.to_owned(),
        reason,
    };
    let headers = reader
        .headers()
        .map_err(|e| layout(format!("CSV header: {e}")))?
        .clone();
    let column = |names: &[&str]| {
        headers.iter().position(|h| {
            let h = h.trim().trim_start_matches('\u{FEFF}').to_ascii_lowercase();
            names.contains(&h.as_str())
        })
    };
    let name_col = column(&["name"]);
    let source_col = column(&["source"]);
    if name_col.is_none() || source_col.is_none() {
        return Err(layout("CSV without `name` and `source` columns".to_owned()));
    }
    let cols = [
        column(&["_id", "id"]),
        source_col,
        column(&["entity_number"]),
        column(&["type"]),
        column(&["programs"]),
        name_col,
        column(&["addresses"]),
        column(&["federal_register_notice"]),
        column(&["start_date"]),
        column(&["end_date"]),
        column(&["license_requirement"]),
        column(&["license_policy"]),
        column(&["remarks"]),
        column(&["source_list_url"]),
        column(&["alt_names"]),
        column(&["nationalities"]),
        column(&["citizenships"]),
    ];
    let mut entries = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(row_error(label, "line", line, format!("CSV: {e}"))),
        }
        let line = record.position().map_or(line, |p| p.line() as usize);
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: usize| -> Option<String> {
            cols[i]
                .and_then(|c| record.get(c))
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let list = |i: usize| get(i).map(|s| split_list(&s)).unwrap_or_default();
        let mut countries: Vec<String> = list(6)
            .iter()
            .filter_map(|a| country_of_address(a))
            .collect();
        countries.extend(list(15));
        countries.extend(list(16));
        let raw = RawEntry {
            id: get(0),
            source: get(1),
            entity_number: get(2),
            party_type: get(3),
            programs: list(4),
            name: get(5),
            countries,
            federal_register_notice: get(7),
            start_date: get(8),
            end_date: get(9),
            license_requirement: get(10),
            license_policy: get(11),
            remarks: get(12),
            source_list_url: get(13),
            alt_names: list(14),
        };
        entries.push(validate(raw, label, "line", line)?);
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_labels_are_the_last_path_segment() {
        let json = br#"{"results": [{"source": "Entity List (EL) - Bureau of Industry and Security", "name": "Example Entity"}]}"#;
        let short = |label: &str| {
            ScreeningList::load(json, label)
                .unwrap()
                .short_label()
                .to_string()
        };
        assert_eq!(short("/data/consolidated.json"), "consolidated.json");
        assert_eq!(
            short("https://h.example/v1/consolidated.csv?key=1"),
            "consolidated.csv"
        );
    }

    #[test]
    fn sources_from_official_text() {
        let cases = [
            (
                "Entity List (EL) - Bureau of Industry and Security",
                ListSource::EntityList,
            ),
            (
                "Military End User (MEU) List - Bureau of Industry and Security",
                ListSource::MilitaryEndUser,
            ),
            (
                "Non-SDN Menu-Based Sanctions List (NS-MBS List) - Treasury Department",
                ListSource::NsMbs,
            ),
            (
                "Specially Designated Nationals (SDN) - Treasury Department",
                ListSource::Sdn,
            ),
            (
                "ITAR Debarred (DTC) - State Department",
                ListSource::ItarDebarred,
            ),
            ("Capta List (CAP) - Treasury Department", ListSource::Capta),
            ("dpl", ListSource::DeniedPersons),
            ("Unverified List", ListSource::Unverified),
        ];
        for (text, source) in cases {
            assert_eq!(ListSource::from_text(text), Some(source), "{text}");
        }
        assert_eq!(ListSource::from_text("Some Other List (XYZ)"), None);
        assert_eq!(ListSource::from_text(""), None);
        for s in ListSource::ALL {
            assert_eq!(ListSource::from_text(s.code()), Some(s));
            assert_eq!(ListSource::from_text(s.label()), Some(s), "{}", s.label());
        }
    }

    #[test]
    fn dates_and_label_dates() {
        assert_eq!(
            parse_date("2020-12-22"),
            Some(time::macros::date!(2020 - 12 - 22))
        );
        assert_eq!(
            parse_date("2020-12-22T00:00:00Z"),
            Some(time::macros::date!(2020 - 12 - 22))
        );
        assert_eq!(parse_date("2020-13-22"), None);
        assert_eq!(parse_date("22/12/2020"), None);
        assert_eq!(
            date_in_label("/x/consolidated-screening-list-2026-07-31.json"),
            Some(time::macros::date!(2026 - 07 - 31))
        );
        assert_eq!(date_in_label("consolidated.json"), None);
        assert_eq!(date_in_label("list-2026-02-30.json"), None);
    }

    #[test]
    fn countries_of_address_strings() {
        assert_eq!(
            country_of_address("1 Road, Shenzhen, Guangdong, CN").as_deref(),
            Some("CN")
        );
        assert_eq!(country_of_address("Shenzhen, China"), None);
        assert_eq!(country_of_address("RU").as_deref(), Some("RU"));
    }
}
