//! The embedded default: SQLite in WAL mode with `synchronous = FULL`, so a
//! commit is on disk before it returns.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{
    Appended, BatchWriter, GroupCommitter, LedgerError, LedgerKey, LedgerStore, ListFilter, Lookup,
    NewRecord, Owned, PendingAppend, Record, SqlValue, SubmitError, Verification, chain_batch,
    list_query, verify_chain,
};

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        match self {
            SqlValue::Int(v) => v.to_sql(),
            SqlValue::Big(v) => v.to_sql(),
            SqlValue::Text(v) => v.to_sql(),
        }
    }
}

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        LedgerError(e.to_string())
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    request BLOB NOT NULL,
    decision BLOB NOT NULL,
    outcome INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rules_digest TEXT NOT NULL,
    classifier_rules_digest TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_as_of ON decisions (as_of);
CREATE TRIGGER IF NOT EXISTS decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'the decision ledger is append-only'); END;
";

const COLUMNS: &str = "seq, decision_id, request_id, request_hash, request, decision, outcome, as_of, created_at, rules_digest, classifier_rules_digest, prev_hash, hash";

/// SQLite ledger: one writer thread (group commit), one reader connection,
/// and a checkpointer thread that copies the WAL into the database file
/// outside the writer's commits.
pub struct SqliteLedger {
    writer: GroupCommitter,
    /// Lists, decision lookups and chain walks (which may take long).
    reader: Mutex<Connection>,
    /// Request-id point lookups only, on a thread of their own
    /// ([`LedgerStore::lookup_request_id`]): never held behind a chain walk.
    lookups: Owned<Connection>,
    /// Dropping it stops the checkpointer.
    _checkpointer: std::sync::mpsc::Sender<()>,
    /// Keys new records and checks keyed ones.
    key: Option<LedgerKey>,
}

/// How often the checkpointer runs a passive checkpoint.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(100);
/// WAL frames beyond which the checkpointer runs ten times as often.
const BUSY_WAL_FRAMES: i64 = 1024;

/// WAL size past which the writer, between two group commits, checkpoints
/// the frames the checkpointer has not copied yet. SQLite rewinds a WAL only
/// when a write begins with every frame checkpointed; under steady writes
/// the checkpointer alone never sees that moment, and the WAL would grow
/// without bound. The writer's catch-up copies at most the frames of one
/// checkpointer interval, so its pause stays short.
const WAL_REWIND_BYTES: u64 = 16 * 1024 * 1024;

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` every [`CHECKPOINT_EVERY`] until `stop`
/// is dropped. A passive checkpoint never blocks the writer or the readers,
/// so most of the copying into the database file happens outside the
/// writer's commits (the writer's own automatic checkpoints are off).
fn checkpointer(path: &Path) -> Result<std::sync::mpsc::Sender<()>, LedgerError> {
    let conn = open(path)?;
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("ledger-checkpoint".into())
        .spawn(move || {
            let mut pause = CHECKPOINT_EVERY;
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(pause)
            {
                let done =
                    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1));
                // While the WAL is large (heavy writing), keep up with it so
                // that the writer's catch-up has little left to copy.
                pause = match done {
                    Ok(frames) if frames > BUSY_WAL_FRAMES => CHECKPOINT_EVERY / 10,
                    Ok(_) => CHECKPOINT_EVERY,
                    Err(e) => {
                        tracing::warn!(error = %e, "ledger checkpoint failed; retrying");
                        CHECKPOINT_EVERY
                    }
                };
            }
        })
        .map_err(|e| LedgerError(e.to_string()))?;
    Ok(stop)
}

fn open(path: &Path) -> Result<Connection, LedgerError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record {
        seq: row.get(0)?,
        body: NewRecord {
            decision_id: row.get(1)?,
            request_id: row.get(2)?,
            request: row.get(4)?,
            decision: row.get(5)?,
            outcome: row.get(6)?,
            as_of: row.get(7)?,
            created_at: row.get(8)?,
            rules_digest: row.get(9)?,
            classifier_rules_digest: row.get(10)?,
        },
        request_hash: row.get(3)?,
        prev_hash: row.get(11)?,
        hash: row.get(12)?,
    })
}

fn one(conn: &Connection, column: &str, value: &str) -> Result<Option<Record>, LedgerError> {
    let sql = format!("SELECT {COLUMNS} FROM decisions WHERE {column} = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![value], row_to_record)
        .optional()?)
}

/// The last record's sequence and hash.
fn head(conn: &Connection) -> Result<Option<(i64, String)>, LedgerError> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

struct Writer {
    conn: Connection,
    key: Option<LedgerKey>,
    /// The `-wal` file, watched for [`WAL_REWIND_BYTES`].
    wal: std::path::PathBuf,
    rewind_bytes: u64,
}

impl Writer {
    /// Between commits: once the WAL has grown past the bound, checkpoint the
    /// rest of it so that the next write transaction rewinds it.
    fn bound_wal(&self) {
        let size = std::fs::metadata(&self.wal).map_or(0, |m| m.len());
        if size > self.rewind_bytes {
            let done = self
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(0));
            if let Err(e) = done {
                tracing::warn!(error = %e, "ledger checkpoint failed; retrying after the next commit");
            }
        }
    }
}

impl BatchWriter for Writer {
    fn write_batch(&mut self, batch: Vec<NewRecord>) -> Result<Vec<Appended>, LedgerError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let last = head(&tx)?;
        let out = chain_batch(self.key.as_ref(), last, batch, |request_id| {
            one(&tx, "request_id", request_id)
        })?;
        {
            let mut insert = tx.prepare_cached(&format!(
                "INSERT INTO decisions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?;
            for a in &out {
                if let Appended::New(r) = a {
                    let b = &r.body;
                    insert.execute(params![
                        r.seq,
                        b.decision_id,
                        b.request_id,
                        r.request_hash,
                        b.request,
                        b.decision,
                        b.outcome,
                        b.as_of,
                        b.created_at,
                        b.rules_digest,
                        b.classifier_rules_digest,
                        r.prev_hash,
                        r.hash
                    ])?;
                }
            }
        }
        tx.commit()?;
        self.bound_wal();
        Ok(out)
    }
}

impl SqliteLedger {
    /// Opens (creating if needed) the ledger file; new records are unkeyed.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        Self::open_keyed(path, None)
    }

    /// Opens (creating if needed) the ledger file; with a key, new records
    /// are keyed and keyed records are checked with it.
    pub fn open_keyed(path: &Path, key: Option<LedgerKey>) -> Result<Self, LedgerError> {
        Self::open_with(path, WAL_REWIND_BYTES, key)
    }

    /// Opens the ledger, rewinding the WAL once it passes `rewind_bytes`.
    pub fn open_bounded(path: &Path, rewind_bytes: u64) -> Result<Self, LedgerError> {
        Self::open_with(path, rewind_bytes, None)
    }

    fn open_with(
        path: &Path,
        rewind_bytes: u64,
        key: Option<LedgerKey>,
    ) -> Result<Self, LedgerError> {
        let writer = open(path)?;
        writer.execute_batch(SCHEMA)?;
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        // A rewound WAL is cut back to this size rather than kept at its peak.
        writer.pragma_update(None, "journal_size_limit", rewind_bytes as i64)?;
        let reader = open(path)?;
        let lookups = open(path)?;
        let checkpointer = checkpointer(path)?;
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let writer = Writer {
            conn: writer,
            key: key.clone(),
            wal: wal.into(),
            rewind_bytes,
        };
        let writer = GroupCommitter::spawn("ledger-sqlite", writer)
            .map_err(|e| LedgerError(e.to_string()))?;
        Ok(Self {
            writer,
            reader: Mutex::new(reader),
            lookups: Owned::spawn("ledger-sqlite-lookups", lookups)
                .map_err(|e| LedgerError(e.to_string()))?,
            _checkpointer: checkpointer,
            key,
        })
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl LedgerStore for SqliteLedger {
    fn append(&self, record: NewRecord) -> Result<Appended, LedgerError> {
        self.writer.append(record)
    }

    fn submit(&self, record: NewRecord) -> Result<PendingAppend, SubmitError> {
        self.writer.submit(record)
    }

    fn by_request_id(&self, request_id: &str) -> Result<Option<Record>, LedgerError> {
        let id = request_id.to_string();
        self.lookups.call(move |c| one(c, "request_id", &id))?
    }

    fn lookup_request_id(&self, request_id: String) -> Lookup {
        Box::pin(self.lookups.ask(move |c| one(c, "request_id", &request_id)))
    }

    fn by_decision_id(&self, decision_id: &str) -> Result<Option<Record>, LedgerError> {
        one(&self.reader(), "decision_id", decision_id)
    }

    fn list(&self, f: &ListFilter) -> Result<Vec<Record>, LedgerError> {
        let conn = self.reader();
        let (sql, values) = list_query(f, COLUMNS, |i, _| format!("?{i}"));
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), row_to_record)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn verify(&self) -> Result<Verification, LedgerError> {
        let conn = self.reader();
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM decisions ORDER BY seq"))?;
        let rows = stmt.query_map([], row_to_record)?;
        verify_chain(
            self.key.as_ref(),
            rows.map(|r| r.map_err(LedgerError::from)),
        )
    }

    fn head(&self) -> Result<Option<(i64, String)>, LedgerError> {
        head(&self.reader())
    }

    fn hash_at(&self, seq: i64) -> Result<Option<String>, LedgerError> {
        Ok(self
            .reader()
            .prepare_cached("SELECT hash FROM decisions WHERE seq = ?1")?
            .query_row(params![seq], |r| r.get(0))
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(i: usize) -> NewRecord {
        NewRecord {
            decision_id: format!("d{i}"),
            request_id: format!("r{i}"),
            request: vec![i as u8; 8],
            decision: vec![1, 2, i as u8],
            outcome: 1,
            as_of: "2024-01-01".into(),
            created_at: "2024-01-01T00:00:00Z".into(),
            rules_digest: "sha256:p".into(),
            classifier_rules_digest: "sha256:c".into(),
        }
    }

    fn temp_ledger(name: &str) -> (SqliteLedger, std::path::PathBuf) {
        let path =
            std::env::temp_dir().join(format!("exportctl-ledger-{name}-{}.db", std::process::id()));
        let _ = std::fs::remove_file(&path);
        (SqliteLedger::open(&path).unwrap(), path)
    }

    #[test]
    fn chains_records_and_is_idempotent_on_request_id() {
        let (l, path) = temp_ledger("chain");
        for i in 0..5 {
            assert!(matches!(l.append(record(i)).unwrap(), Appended::New(_)));
        }
        match l.append(record(2)).unwrap() {
            Appended::Existing(r) => assert_eq!(r.seq, 3),
            other => panic!("{other:?}"),
        }
        let v = l.verify().unwrap();
        assert_eq!(v.length, 5);
        assert!(v.broken.is_none());
        assert_eq!(l.by_request_id("r4").unwrap().unwrap().hash, v.head_hash);
        let page = l
            .list(&ListFilter {
                limit: 2,
                before_seq: Some(5),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![4, 3]);
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn updates_are_refused_and_tampering_is_detected() {
        let (l, path) = temp_ledger("tamper");
        for i in 0..4 {
            l.append(record(i)).unwrap();
        }
        drop(l);
        let conn = Connection::open(&path).unwrap();
        let err = conn
            .execute("UPDATE decisions SET outcome = 3 WHERE seq = 2", [])
            .unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        conn.execute_batch(
            "DROP TRIGGER decisions_no_update; UPDATE decisions SET outcome = 3 WHERE seq = 2;",
        )
        .unwrap();
        drop(conn);
        let l = SqliteLedger::open(&path).unwrap();
        let v = l.verify().unwrap();
        assert_eq!(v.broken.as_ref().map(|b| b.0), Some(2), "{v:?}");
        assert_eq!(v.length, 1);
        std::fs::remove_file(path).ok();
    }

    #[test]
    fn concurrent_appends_form_one_chain() {
        let (l, path) = temp_ledger("concurrent");
        let l = std::sync::Arc::new(l);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let l = l.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        // Every other request id is shared by two threads: one of them must get Existing.
                        let n = if i % 2 == 0 {
                            t * 1000 + i
                        } else {
                            (t / 2) * 1000 + i
                        };
                        l.append(record(n)).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let v = l.verify().unwrap();
        assert!(v.broken.is_none(), "{v:?}");
        // 8 threads x 25 unique ids + 4 pairs x 25 shared ids.
        assert_eq!(v.length, 8 * 25 + 4 * 25);
        std::fs::remove_file(path).ok();
    }

    /// Under steady writes the WAL is rewound once it passes its bound, so the
    /// file stays near the bound instead of growing with the ledger.
    #[test]
    fn the_wal_stays_bounded_under_steady_writes() {
        let path = std::env::temp_dir().join(format!(
            "exportctl-ledger-walbound-{}.db",
            std::process::id()
        ));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let bound = 256 * 1024;
        let l = std::sync::Arc::new(SqliteLedger::open_bounded(&path, bound).unwrap());
        let wal = format!("{}-wal", path.display());
        let largest = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let writers: Vec<_> = (0..4)
            .map(|t| {
                let (l, wal, largest) = (l.clone(), wal.clone(), largest.clone());
                std::thread::spawn(move || {
                    for i in 0..400 {
                        let mut r = record(t * 10_000 + i);
                        r.request = vec![7; 2048];
                        l.append(r).unwrap();
                        let size = std::fs::metadata(&wal).map_or(0, |m| m.len());
                        largest.fetch_max(size, std::sync::atomic::Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let v = l.verify().unwrap();
        assert!(v.broken.is_none(), "{v:?}");
        assert_eq!(v.length, 1600);
        let largest = largest.load(std::sync::atomic::Ordering::Relaxed);
        // The bound plus what a few commits add before the next rewind.
        assert!(
            largest < 4 * bound,
            "the WAL reached {largest} bytes (bound {bound})"
        );
        drop(l);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
