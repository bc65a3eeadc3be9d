//! Classification: the attribute vocabulary, criteria over it, rule packs of
//! control entries and the compiled matcher (`engine::RuleSet`).

pub mod bundled;
pub mod criteria;
pub mod engine;
pub mod pack;
pub mod vocabulary;
