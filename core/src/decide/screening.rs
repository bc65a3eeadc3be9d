//! The official screening lists a decision screens its parties against (the
//! US Consolidated Screening List, loaded at run time), as one value the
//! engine reads and the service replaces whole on reload.

use std::sync::Arc;

pub use exportctl_screening::{ListSource, ListedParty, ScreeningList};

/// The lists in force; empty when none was given (then only the parties the
/// packs list are screened, and the end-user check cannot clear a party).
#[derive(Debug, Clone, Default)]
pub struct ScreeningSet {
    pub lists: Vec<Arc<ScreeningList>>,
}

impl ScreeningSet {
    pub fn new(lists: Vec<Arc<ScreeningList>>) -> Self {
        Self { lists }
    }

    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Entries over all lists.
    pub fn entries(&self) -> usize {
        self.lists.iter().map(|l| l.entries().len()).sum()
    }

    /// A digest over the lists' own digests, in order (empty when none).
    pub fn digest(&self) -> String {
        if self.lists.is_empty() {
            return String::new();
        }
        let joined: String = self
            .lists
            .iter()
            .map(|l| format!("{}\n", l.digest()))
            .collect();
        crate::digest::Digest::of(joined.as_bytes()).to_string()
    }
}

/// What a name hit on one list means for an export under the EAR (the table
/// in the data README; 15 CFR parts 744, 764 and OFAC's blocking rules).
#[derive(Debug, Clone, PartialEq)]
pub enum ListEffect {
    /// Denied Persons, SDN: no transaction in items subject to the EAR.
    Prohibited,
    /// Entity List: a license for what the entry's requirement covers; no
    /// license exception.
    EntityList(ElScope),
    /// Military End User List: a license for the items of Supp. 2 to part
    /// 744, which the packs do not enumerate.
    MilitaryEndUser,
    /// Unverified List: no license exception; a UVL statement is needed.
    Unverified,
    /// ITAR debarred, nonproliferation sanctions: stop and refer to a person.
    Refer,
    /// Financial and investment measures: an advisory, never an outcome.
    Advisory,
}

impl ListEffect {
    pub fn of(source: ListSource, license_requirement: Option<&str>) -> Self {
        match source {
            ListSource::DeniedPersons | ListSource::Sdn => ListEffect::Prohibited,
            ListSource::EntityList => {
                ListEffect::EntityList(ElScope::parse(license_requirement.unwrap_or("")))
            }
            ListSource::MilitaryEndUser => ListEffect::MilitaryEndUser,
            ListSource::Unverified => ListEffect::Unverified,
            ListSource::ItarDebarred | ListSource::Nonproliferation => ListEffect::Refer,
            ListSource::SectoralSanctions
            | ListSource::Cmic
            | ListSource::NsMbs
            | ListSource::Plc
            | ListSource::Capta => ListEffect::Advisory,
        }
    }

    /// No license exception or other authorization applies to a shipment to
    /// a party with this listing.
    pub fn blocks_authorizations(&self) -> bool {
        matches!(
            self,
            ListEffect::Prohibited | ListEffect::EntityList(_) | ListEffect::Unverified
        )
    }
}

/// The items an Entity List entry's license requirement covers.
#[derive(Debug, Clone, PartialEq)]
pub enum ElScope {
    /// "For all items subject to the EAR".
    AllItems,
    /// The ECCNs (or ECCN prefixes) the requirement names.
    Eccns(Vec<String>),
    /// A text the engine cannot read: quoted, for a person.
    Unparsed(String),
}

impl ElScope {
    pub fn parse(text: &str) -> Self {
        let lower = text.to_lowercase();
        if lower.contains("all items subject to the ear") {
            return ElScope::AllItems;
        }
        let eccns = eccns_in(text);
        if eccns.is_empty() {
            ElScope::Unparsed(text.trim().to_string())
        } else {
            ElScope::Eccns(eccns)
        }
    }

    /// Whether the requirement covers an item classified `entries` (ECCNs;
    /// empty = EAR99). `None` when it cannot be told.
    pub fn covers(&self, entries: &[&str]) -> Option<bool> {
        match self {
            ElScope::AllItems => Some(true),
            ElScope::Eccns(named) => Some(
                entries
                    .iter()
                    .any(|e| named.iter().any(|n| e.starts_with(n.as_str()))),
            ),
            ElScope::Unparsed(_) => None,
        }
    }
}

/// ECCNs written in a text: a digit, a letter A–E, three digits, and any
/// paragraph suffix (`3A001`, `3B001.f.1`).
fn eccns_in(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i + 5 <= b.len() {
        let boundary = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        let shape = b[i].is_ascii_digit()
            && (b'A'..=b'E').contains(&b[i + 1])
            && b[i + 2..i + 5].iter().all(u8::is_ascii_digit);
        if boundary && shape {
            let mut end = i + 5;
            while end + 1 < b.len() && b[end] == b'.' && b[end + 1].is_ascii_alphanumeric() {
                end += 1;
                while end < b.len() && b[end].is_ascii_alphanumeric() {
                    end += 1;
                }
            }
            let eccn = text[i..end].to_string();
            if !out.contains(&eccn) {
                out.push(eccn);
            }
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// The review policy an entry's `license_policy` text states, if it states
/// exactly one.
pub fn review_policy_of(text: &str) -> Option<ReviewPolicy> {
    let lower = text.to_lowercase();
    let denial = lower.contains("presumption of denial") || lower.contains("policy of denial");
    let case = lower.contains("case-by-case") || lower.contains("case by case");
    let approval = lower.contains("presumption of approval");
    match (denial, case, approval) {
        (true, false, false) => Some(ReviewPolicy::PresumptionOfDenial),
        (false, true, false) => Some(ReviewPolicy::CaseByCase),
        (false, false, true) => Some(ReviewPolicy::PresumptionOfApproval),
        _ => None,
    }
}

use super::policy::ReviewPolicy;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_list_requirements_are_read_or_quoted() {
        assert_eq!(
            ElScope::parse("For all items subject to the EAR. (See §744.11 of the EAR)"),
            ElScope::AllItems
        );
        let named = ElScope::parse(
            "For all items subject to the EAR having a classification other than EAR99",
        );
        assert_eq!(named, ElScope::AllItems);
        let eccns = ElScope::parse("For 3A001, 3B001.f.1 and 5A002 items.");
        assert_eq!(
            eccns,
            ElScope::Eccns(vec!["3A001".into(), "3B001.f.1".into(), "5A002".into()])
        );
        assert_eq!(eccns.covers(&["3B001.f.1.b"]), Some(true));
        assert_eq!(eccns.covers(&["3C002.a.2"]), Some(false));
        assert_eq!(eccns.covers(&[]), Some(false));
        let odd = ElScope::parse("See the Federal Register notice.");
        assert!(matches!(odd, ElScope::Unparsed(_)));
        assert_eq!(odd.covers(&["3A090.a"]), None);
    }

    #[test]
    fn review_policies_are_read_when_unambiguous() {
        assert_eq!(
            review_policy_of("Presumption of denial."),
            Some(ReviewPolicy::PresumptionOfDenial)
        );
        assert_eq!(
            review_policy_of("Policy of denial for all items subject to the EAR. See § 746.8(b)"),
            Some(ReviewPolicy::PresumptionOfDenial)
        );
        assert_eq!(
            review_policy_of("Case-by-case review"),
            Some(ReviewPolicy::CaseByCase)
        );
        assert_eq!(
            review_policy_of(
                "Case-by-case review for ECCNs 1A004.c; and presumption of denial for all other items"
            ),
            None
        );
    }

    #[test]
    fn each_source_has_its_effect() {
        use ListSource::*;
        assert_eq!(ListEffect::of(DeniedPersons, None), ListEffect::Prohibited);
        assert_eq!(ListEffect::of(Sdn, None), ListEffect::Prohibited);
        assert_eq!(
            ListEffect::of(EntityList, Some("For all items subject to the EAR")),
            ListEffect::EntityList(ElScope::AllItems)
        );
        assert_eq!(
            ListEffect::of(MilitaryEndUser, None),
            ListEffect::MilitaryEndUser
        );
        assert_eq!(ListEffect::of(Unverified, None), ListEffect::Unverified);
        assert_eq!(ListEffect::of(ItarDebarred, None), ListEffect::Refer);
        assert_eq!(ListEffect::of(Nonproliferation, None), ListEffect::Refer);
        for advisory in [SectoralSanctions, Cmic, NsMbs, Plc, Capta] {
            assert_eq!(ListEffect::of(advisory, None), ListEffect::Advisory);
        }
        assert!(ListEffect::of(Unverified, None).blocks_authorizations());
        assert!(!ListEffect::of(Cmic, None).blocks_authorizations());
    }
}
