//! Where the official screening lists come from: files (and later URLs)
//! named by `--screening-list`, loaded into the set the engine reads.

use std::sync::Arc;

use exportctl_core::decide::screening::{ScreeningList, ScreeningSet};

/// The screening lists in force; replaced whole on reload.
pub type SharedScreening = exportctl_runtime::shared::Shared<ScreeningSet>;

/// Loads every list a source names; any failure names the source and the row.
pub fn load_all(sources: &[String]) -> anyhow::Result<ScreeningSet> {
    let mut lists = Vec::with_capacity(sources.len());
    for source in sources {
        let bytes =
            std::fs::read(source).map_err(|e| anyhow::anyhow!("screening list {source}: {e}"))?;
        lists.push(Arc::new(ScreeningList::load(&bytes, source)?));
    }
    Ok(ScreeningSet::new(lists))
}
