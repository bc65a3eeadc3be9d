//! The ledger anchor: the head of the chain (sequence, head hash, the hash of
//! record 1 as the ledger's identity, the time) published outside the
//! ledger, so that a ledger cut short, rewritten, replaced or deleted no
//! longer matches it. With a ledger key the anchor carries a MAC, so it
//! cannot be edited to match a truncated ledger.
//!
//! The anchor is a small JSON file written atomically (temporary file,
//! fsync, rename, fsync of the directory) from committed heads only: an
//! anchor is never ahead of what a crash leaves in the ledger.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exportctl_runtime::metrics::Registry;
use serde::{Deserialize, Serialize};

use super::{GENESIS, KEYED_PREFIX, LedgerError, LedgerKey, LedgerStore, Verification};
use crate::error::Error;

/// The anchor's file name when `--ledger-anchor` names a directory.
pub const ANCHOR_FILE_NAME: &str = "exportctl-ledger.anchor";
/// The `format` of the anchors this version writes and reads.
pub const ANCHOR_FORMAT: &str = "exportctl-ledger-anchor/1";

/// A published head of the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Anchor {
    /// Always [`ANCHOR_FORMAT`].
    pub format: String,
    /// Hash of record 1 ([`GENESIS`] for an empty ledger): which ledger.
    pub ledger_id: String,
    /// Records in the ledger when the anchor was written.
    pub sequence: i64,
    /// Hash of record `sequence` ([`GENESIS`] for an empty ledger).
    pub head_hash: String,
    /// When it was written (RFC 3339, UTC).
    pub written_at: String,
    /// `hmac-sha256:` over the fields above, with the ledger key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
}

impl Anchor {
    /// An anchor of a ledger whose head is `(sequence, head_hash)`, MACed with `key`.
    pub fn new(
        ledger_id: String,
        sequence: i64,
        head_hash: String,
        written_at: String,
        key: Option<&LedgerKey>,
    ) -> Self {
        let mut anchor = Self {
            format: ANCHOR_FORMAT.to_string(),
            ledger_id,
            sequence,
            head_hash,
            written_at,
            mac: None,
        };
        anchor.mac = key.map(|k| anchor.with_signed(|parts| k.mac_lines(parts)));
        anchor
    }

    /// Calls `f` with the fields the MAC covers, in order.
    fn with_signed<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        let sequence = self.sequence.to_string();
        f(&[
            &self.format,
            &self.ledger_id,
            &sequence,
            &self.head_hash,
            &self.written_at,
        ])
    }

    /// `Some(true)`: the MAC verifies with `key`; `Some(false)`: it does not
    /// (edited, or written with another key); `None`: no key or no MAC.
    pub fn authentic(&self, key: Option<&LedgerKey>) -> Option<bool> {
        let (key, mac) = (key?, self.mac.as_deref()?);
        Some(self.with_signed(|parts| key.verifies_lines(parts, mac)))
    }
}

/// The anchor file `path` names: `path` itself, or [`ANCHOR_FILE_NAME`] in
/// it when it is a directory.
pub fn anchor_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(ANCHOR_FILE_NAME)
    } else {
        path.to_path_buf()
    }
}

/// Reads the anchor file; `None` when there is none yet.
pub fn read_anchor(file: &Path) -> Result<Option<Anchor>, LedgerError> {
    let text = match std::fs::read(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(LedgerError(format!(
                "cannot read the ledger anchor {}: {e}",
                file.display()
            )));
        }
    };
    let anchor: Anchor = serde_json::from_slice(&text).map_err(|e| {
        LedgerError(format!(
            "the ledger anchor {} is not an anchor: {e}",
            file.display()
        ))
    })?;
    Ok(Some(anchor))
}

/// Writes the anchor file atomically: a temporary file beside it, fsync,
/// rename over it, fsync of the directory. A crash leaves the old or the
/// new anchor, whole.
pub fn write_anchor(file: &Path, anchor: &Anchor) -> Result<(), LedgerError> {
    use std::io::Write as _;
    let fail = |what: &str, e: std::io::Error| {
        LedgerError(format!(
            "cannot write the ledger anchor {} ({what}): {e}",
            file.display()
        ))
    };
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = file.file_name().map_or_else(
        || ANCHOR_FILE_NAME.into(),
        |n| n.to_string_lossy().into_owned(),
    );
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut json = serde_json::to_vec_pretty(anchor).map_err(|e| LedgerError(e.to_string()))?;
    json.push(b'\n');
    let mut f = std::fs::File::create(&tmp).map_err(|e| fail("create", e))?;
    f.write_all(&json).map_err(|e| fail("write", e))?;
    f.sync_all().map_err(|e| fail("fsync", e))?;
    drop(f);
    std::fs::rename(&tmp, file).map_err(|e| fail("rename", e))?;
    std::fs::File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| fail("fsync of the directory", e))
}

/// Why a ledger is not served (or not reported intact).
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// `broken`, `no-key`, `anchor-invalid`, `missing`, `replaced`,
    /// `truncated` or `diverged`.
    pub kind: &'static str,
    /// What exactly, with the sequences and hashes involved.
    pub detail: String,
    /// The head hash of the anchor whose chain would be abandoned, when
    /// `--accept-ledger-reset` with that hash may let the service start.
    pub reset_hash: Option<String>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ledger: {}", self.kind, self.detail)
    }
}

fn refuse(kind: &'static str, detail: String) -> Error {
    Error::LedgerRefused(Refusal {
        kind,
        detail,
        reset_hash: None,
    })
}

/// Checks a walked chain, and the ledger against its last anchor: a broken
/// chain, an anchor that does not authenticate, and a ledger that is empty,
/// another one, shorter than the anchor or different at the anchor's
/// sequence are refused. `hash_at` reads a stored record hash.
pub fn check(
    v: &Verification,
    anchor: Option<&Anchor>,
    key: Option<&LedgerKey>,
    hash_at: impl FnOnce(i64) -> Result<Option<String>, LedgerError>,
) -> Result<(), Error> {
    if let Some((seq, problem)) = &v.broken {
        return Err(refuse(
            "broken",
            format!(
                "the chain is broken at record {seq}: {problem} ({} records verify before it, last good hash {})",
                v.length, v.head_hash
            ),
        ));
    }
    let Some(a) = anchor else { return Ok(()) };
    if a.format != ANCHOR_FORMAT {
        return Err(refuse(
            "anchor-invalid",
            format!("the anchor's format is `{}`, not {ANCHOR_FORMAT}", a.format),
        ));
    }
    match a.authentic(key) {
        Some(false) => {
            return Err(refuse(
                "anchor-invalid",
                format!(
                    "the anchor (record {}, head {}) does not authenticate with this key: it was edited, or written with another key",
                    a.sequence, a.head_hash
                ),
            ));
        }
        // Without its MAC anyone could have written it (to match a ledger
        // cut short, say): one from before the key was introduced is
        // re-anchored under the key only when the reset is accepted.
        None if key.is_some() => {
            let reset_hash = (!a.head_hash.starts_with(KEYED_PREFIX)).then(|| a.head_hash.clone());
            return Err(Error::LedgerRefused(Refusal {
                kind: "anchor-invalid",
                detail: format!(
                    "the anchor (record {}, head {}) carries no MAC but a ledger key is configured",
                    a.sequence, a.head_hash
                ),
                reset_hash,
            }));
        }
        _ => {}
    }
    if a.sequence == 0 {
        return Ok(());
    }
    let anchored = format!(
        "the anchor (written {}) records {} records with head {}",
        a.written_at, a.sequence, a.head_hash
    );
    let resettable = |kind, detail| {
        Error::LedgerRefused(Refusal {
            kind,
            detail,
            reset_hash: Some(a.head_hash.clone()),
        })
    };
    let first = v.first_hash.as_deref().unwrap_or(GENESIS);
    if v.length == 0 {
        return Err(resettable(
            "missing",
            format!("the ledger is missing or empty, but {anchored}"),
        ));
    }
    if first != a.ledger_id {
        return Err(resettable(
            "replaced",
            format!(
                "record 1 has hash {first} but the anchored ledger's record 1 had {}: this is another ledger ({} records, head {}); {anchored}",
                a.ledger_id, v.length, v.head_hash
            ),
        ));
    }
    if v.length < a.sequence {
        return Err(resettable(
            "truncated",
            format!(
                "the ledger ends at record {} (head {}) but {anchored}: records {}..={} are gone",
                v.length,
                v.head_hash,
                v.length + 1,
                a.sequence
            ),
        ));
    }
    let stored = hash_at(a.sequence)
        .map_err(|e| Error::Ledger(e.0))?
        .unwrap_or_default();
    if stored != a.head_hash {
        let downgrade =
            if a.head_hash.starts_with(KEYED_PREFIX) && !stored.starts_with(KEYED_PREFIX) {
                " (the anchored record was keyed and the stored one is not: a downgrade)"
            } else {
                ""
            };
        return Err(resettable(
            "diverged",
            format!(
                "record {} has hash {stored} but {anchored}{downgrade}: the ledger was rewritten at or before record {}",
                a.sequence, a.sequence
            ),
        ));
    }
    Ok(())
}

/// The start-up check: walks the chain with `key` and checks it against
/// `anchor` ([`check`]); a keyed ledger without a key is refused too. A
/// refusal about the anchor is waived, with a warning, when `accept_reset`
/// is the anchor's head hash (the chain being knowingly abandoned).
pub fn guard(
    ledger: &dyn LedgerStore,
    anchor: Option<&Anchor>,
    key: Option<&LedgerKey>,
    accept_reset: Option<&str>,
) -> Result<Verification, Error> {
    let v = ledger.verify().map_err(|e| Error::Ledger(e.0))?;
    if let (None, Some(from), None) = (key, v.keyed_from, &v.broken) {
        return Err(refuse(
            "no-key",
            format!(
                "the chain is keyed from record {from} and no ledger key was given (--ledger-key-file): its records can neither be checked nor extended"
            ),
        ));
    }
    waive(
        check(&v, anchor, key, |seq| ledger.hash_at(seq)),
        accept_reset,
    )?;
    Ok(v)
}

/// Lets a refusal that names an anchor's head hash pass when `accept_reset`
/// is that hash; otherwise says how to accept it.
pub fn waive(checked: Result<(), Error>, accept_reset: Option<&str>) -> Result<(), Error> {
    match (checked, accept_reset) {
        (Ok(()), Some(h)) => {
            tracing::warn!(hash = %h, "--accept-ledger-reset given but the ledger matches its anchor: nothing to accept");
            Ok(())
        }
        (Err(Error::LedgerRefused(r)), accept) if r.reset_hash.is_some() => {
            let anchored = r.reset_hash.clone().unwrap_or_default();
            match accept {
                Some(h) if h == anchored => {
                    tracing::warn!(kind = r.kind, detail = %r.detail, abandoned = %anchored,
                        "ledger reset accepted: serving a chain that does not match its anchor; the next anchor records the new chain");
                    Ok(())
                }
                Some(h) => Err(Error::LedgerRefused(Refusal {
                    detail: format!(
                        "{}; --accept-ledger-reset names {h}, not the anchor's head {anchored}",
                        r.detail
                    ),
                    ..r
                })),
                None => Err(Error::LedgerRefused(Refusal {
                    detail: format!(
                        "{}; to abandon the anchored chain knowingly, start with --accept-ledger-reset {anchored}",
                        r.detail
                    ),
                    ..r
                })),
            }
        }
        (other, _) => other,
    }
}

/// Anchor and head figures for `/metrics`.
#[derive(Debug, Default)]
pub struct AnchorStats {
    head_sequence: AtomicI64,
    anchor_sequence: AtomicI64,
    anchor_unix: AtomicI64,
    writes: AtomicU64,
    failures: AtomicU64,
}

impl AnchorStats {
    /// Adds the `exportctl_ledger_*` families to `registry`.
    pub fn expose(self: &Arc<Self>, registry: &Registry) {
        let stats = self.clone();
        registry.render_with(move |out| {
            use std::fmt::Write as _;
            let gauges = [
                (
                    "exportctl_ledger_head_sequence",
                    "Sequence of the ledger's last committed record.",
                    stats.head_sequence.load(Ordering::Relaxed),
                ),
                (
                    "exportctl_ledger_anchor_sequence",
                    "Sequence the last anchor written records (0 = none written).",
                    stats.anchor_sequence.load(Ordering::Relaxed),
                ),
                (
                    "exportctl_ledger_anchor_timestamp_seconds",
                    "When the last anchor was written (Unix time; 0 = none written).",
                    stats.anchor_unix.load(Ordering::Relaxed),
                ),
            ];
            for (name, help, value) in gauges {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} gauge");
                let _ = writeln!(out, "{name} {value}");
            }
            let name = "exportctl_ledger_anchor_writes_total";
            let _ = writeln!(out, "# HELP {name} Anchor writes by result.");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(
                out,
                "{name}{{result=\"ok\"}} {}",
                stats.writes.load(Ordering::Relaxed)
            );
            let _ = writeln!(
                out,
                "{name}{{result=\"failed\"}} {}",
                stats.failures.load(Ordering::Relaxed)
            );
        });
    }
}

/// Publishes the ledger's committed head: to the anchor file (when one is
/// configured) whenever the head has moved, to the log, and to metrics.
pub struct Anchoring {
    ledger: Arc<dyn LedgerStore>,
    file: Option<PathBuf>,
    key: Option<LedgerKey>,
    /// The head the anchor file holds.
    last: Mutex<Option<(i64, String)>>,
    /// Highest sequence this process has anchored (-1: none yet).
    written: std::sync::atomic::AtomicI64,
    stats: Arc<AnchorStats>,
}

impl Anchoring {
    /// `file`: where to write anchors; `current`: the anchor there now.
    pub fn new(
        ledger: Arc<dyn LedgerStore>,
        file: Option<PathBuf>,
        key: Option<LedgerKey>,
        current: Option<&Anchor>,
    ) -> Self {
        let stats = Arc::new(AnchorStats::default());
        if let Some(a) = current {
            stats.anchor_sequence.store(a.sequence, Ordering::Relaxed);
        }
        // An anchor not in the form this service writes (MACed or not) is
        // rewritten at the first tick even if the head has not moved.
        let current = current.filter(|a| a.mac.is_some() == key.is_some());
        Self {
            ledger,
            file,
            key,
            last: Mutex::new(current.map(|a| (a.sequence, a.head_hash.clone()))),
            written: std::sync::atomic::AtomicI64::new(-1),
            stats,
        }
    }

    /// The figures it exports.
    pub fn stats(&self) -> Arc<AnchorStats> {
        self.stats.clone()
    }

    /// Reads the committed head and, if it moved since the last anchor,
    /// writes a new one. Blocks: run it off the executor.
    pub fn tick(&self) -> Result<(), LedgerError> {
        let (sequence, head_hash) = self.ledger.head()?.unwrap_or((0, GENESIS.to_string()));
        self.stats.head_sequence.store(sequence, Ordering::Relaxed);
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // Unchanged, or read before a later tick of this process wrote a
        // newer head (ticks can overlap at shutdown): never write it back.
        if last.as_ref() == Some(&(sequence, head_hash.clone()))
            || sequence < self.written.load(Ordering::Relaxed)
        {
            return Ok(());
        }
        let ledger_id = match sequence {
            0 => GENESIS.to_string(),
            _ => self.ledger.hash_at(1)?.unwrap_or_default(),
        };
        let now = time::OffsetDateTime::now_utc();
        let written_at = now
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|e| LedgerError(e.to_string()))?;
        let anchor = Anchor::new(
            ledger_id,
            sequence,
            head_hash.clone(),
            written_at,
            self.key.as_ref(),
        );
        if let Err(e) = write_anchor(file, &anchor) {
            self.stats.failures.fetch_add(1, Ordering::Relaxed);
            return Err(e);
        }
        tracing::info!(
            sequence,
            head_hash = %anchor.head_hash,
            ledger_id = %anchor.ledger_id,
            keyed = anchor.mac.is_some(),
            file = %file.display(),
            "ledger anchor written"
        );
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        self.stats
            .anchor_sequence
            .store(sequence, Ordering::Relaxed);
        self.stats
            .anchor_unix
            .store(now.unix_timestamp(), Ordering::Relaxed);
        self.written.fetch_max(sequence, Ordering::Relaxed);
        *last = Some((sequence, head_hash));
        Ok(())
    }

    /// [`Self::tick`] off the executor, logging a failure.
    pub async fn tick_async(self: &Arc<Self>) {
        let me = self.clone();
        match tokio::task::spawn_blocking(move || me.tick()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "ledger anchor not written"),
            Err(e) => tracing::error!(error = %e, "ledger anchor task failed"),
        }
    }

    /// Ticks every `interval` until dropped.
    pub async fn run(self: Arc<Self>, interval: Duration) {
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        every.tick().await;
        loop {
            every.tick().await;
            self.tick_async().await;
        }
    }
}
