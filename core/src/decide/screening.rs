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
