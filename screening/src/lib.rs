//! Party screening against the US Consolidated Screening List.

pub mod index;
pub mod normalize;

pub use index::{DEFAULT_THRESHOLD, NameHit, NameIndex};
pub use normalize::{NormalizedName, is_mixed_script, normalize, same_party};
