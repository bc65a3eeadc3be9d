//! Hot reload of a pack directory: on SIGHUP and whenever a `*.toml` file in
//! it changes (polled), load a new set off the executor and swap it in whole.
//! A set that fails to load is logged and counted; the previous one keeps serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crate::shared::Shared;
use exportctl_core::pack::PackError;

/// Reload outcomes, for metrics.
#[derive(Debug, Default)]
pub struct ReloadStats {
    pub succeeded: AtomicU64,
    pub failed: AtomicU64,
}

impl ReloadStats {
    /// Renders the reload counters and the loaded set's digest for `/metrics`.
    pub fn expose<T: Send + Sync + 'static>(
        self: &Arc<Self>,
        registry: &crate::metrics::Registry,
        what: &'static str,
        shared: Shared<T>,
        digest: fn(&T) -> String,
    ) {
        let stats = self.clone();
        registry.render_with(move |out| {
            use std::fmt::Write as _;
            let _ = writeln!(
                out,
                "# HELP exportctl_pack_reloads_total Pack reloads by result."
            );
            let _ = writeln!(out, "# TYPE exportctl_pack_reloads_total counter");
            let _ = writeln!(
                out,
                "exportctl_pack_reloads_total{{packs=\"{what}\",result=\"ok\"}} {}",
                stats.succeeded()
            );
            let _ = writeln!(
                out,
                "exportctl_pack_reloads_total{{packs=\"{what}\",result=\"rejected\"}} {}",
                stats.failed()
            );
            let _ = writeln!(
                out,
                "# HELP exportctl_packs_info The loaded pack set; its digest is a label."
            );
            let _ = writeln!(out, "# TYPE exportctl_packs_info gauge");
            let d = crate::metrics::escape(&digest(&shared.current()));
            let _ = writeln!(
                out,
                "exportctl_packs_info{{packs=\"{what}\",digest=\"{d}\"}} 1"
            );
        });
    }

    pub fn succeeded(&self) -> u64 {
        self.succeeded.load(Ordering::Relaxed)
    }

    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }
}

/// What identifies the directory's contents cheaply: name, size and mtime of each pack file.
fn fingerprint(dir: &Path) -> Vec<(String, u64, Option<SystemTime>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let path = e.path();
            if path.extension().and_then(|x| x.to_str()) != Some("toml") {
                continue;
            }
            let meta = e.metadata().ok();
            out.push((
                e.file_name().to_string_lossy().into_owned(),
                meta.as_ref().map_or(0, |m| m.len()),
                meta.and_then(|m| m.modified().ok()),
            ));
        }
    }
    out.sort();
    out
}

/// A reload job for one service.
pub struct Reloader<T> {
    pub what: &'static str,
    pub dir: PathBuf,
    pub interval: Duration,
    pub shared: Shared<T>,
    pub load: fn(&Path) -> Result<T, PackError>,
    pub digest: fn(&T) -> String,
    pub stats: Arc<ReloadStats>,
}

impl<T: Send + Sync + 'static> Reloader<T> {
    /// Runs until dropped (as a server companion).
    pub async fn run(self) {
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        let mut seen = fingerprint(&self.dir);
        loop {
            #[cfg(unix)]
            let forced = {
                let hup = async {
                    match hangup.as_mut() {
                        Some(h) => {
                            h.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                tokio::select! {
                    () = hup => true,
                    () = tokio::time::sleep(self.interval) => false,
                }
            };
            #[cfg(not(unix))]
            let forced = {
                tokio::time::sleep(self.interval).await;
                false
            };
            let now = fingerprint(&self.dir);
            if !forced && now == seen {
                continue;
            }
            seen = now;
            self.reload(if forced { "SIGHUP" } else { "file change" })
                .await;
        }
    }

    async fn reload(&self, trigger: &str) {
        let (dir, load) = (self.dir.clone(), self.load);
        let loaded = tokio::task::spawn_blocking(move || load(&dir)).await;
        match loaded {
            Ok(Ok(set)) => {
                let (old, new) = ((self.digest)(&self.shared.current()), (self.digest)(&set));
                self.shared.replace(set);
                self.stats.succeeded.fetch_add(1, Ordering::Relaxed);
                tracing::info!(what = self.what, trigger, old = %old, new = %new, "packs reloaded");
            }
            Ok(Err(e)) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(what = self.what, trigger, error = %e, "pack reload rejected; the previous set keeps serving");
            }
            Err(e) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(what = self.what, trigger, error = %e, "pack reload failed; the previous set keeps serving");
            }
        }
    }
}
