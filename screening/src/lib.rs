//! Party screening against the US Consolidated Screening List (CSL).
//!
//! A pure crate: no I/O beyond the bytes the caller hands in. [`list`] loads
//! the official JSON or CSV download into a [`ScreeningList`]; [`index`]
//! holds the [`NameIndex`] that screens names against listed names and
//! aliases (also usable on its own for small party packs); [`normalize`]
//! folds the disguises a name can wear before comparison. [`budget`] holds
//! the performance budget and the synthetic workload that measures it.

pub mod budget;
pub mod index;
pub mod list;
pub mod normalize;

pub use index::{DEFAULT_THRESHOLD, NameHit, NameIndex};
pub use list::{DateBasis, ListHit, ListSource, ListedParty, ScreeningList};
pub use normalize::{NormalizedName, is_mixed_script, normalize, same_party};

/// Why a screening list did not load.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bytes are not a screening list of either official layout.
    #[error("{label}: not a screening list: {reason}")]
    Layout { label: String, reason: String },
    /// One entry is invalid; `row` is the 1-based result index (JSON) or the
    /// line number (CSV), as `kind` says.
    #[error("{label}: {kind} {row}: {reason}")]
    Row {
        label: String,
        kind: &'static str,
        row: usize,
        reason: String,
    },
    /// The list has no entries.
    #[error("{label}: the list has no entries")]
    Empty { label: String },
}
