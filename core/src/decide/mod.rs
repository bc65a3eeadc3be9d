//! Decisions: policy packs (destinations, parties, end uses, authorizations),
//! party screening and the decision engine.

pub mod bundled;
pub mod engine;
pub mod parties;
pub mod policy;
pub mod screening;
