//! The append-only decision ledger: every decision with its request, both
//! rules digests and the hash of the previous record, committed durably before
//! the caller is answered.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

/// The previous-hash of the first record.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// What a new record carries; sequence and hashes are assigned on append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    pub decision_id: String,
    pub request_id: String,
    /// Encoded DecideRequest.
    pub request: Vec<u8>,
    /// Encoded Decision (without sequence and record hash).
    pub decision: Vec<u8>,
    pub outcome: i32,
    pub as_of: String,
    pub created_at: String,
    pub rules_digest: String,
    pub classifier_rules_digest: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub seq: i64,
    pub body: NewRecord,
    pub request_hash: String,
    pub prev_hash: String,
    pub hash: String,
}

/// Result of an append.
#[derive(Debug, Clone, PartialEq)]
pub enum Appended {
    /// Written and durable.
    New(Record),
    /// The request id was already recorded (by this or a concurrent call).
    Existing(Record),
}

/// Filters of a listing; `before_seq` pages backwards.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub outcome: Option<i32>,
    pub as_of_from: Option<String>,
    pub as_of_until: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: usize,
}

/// Result of walking the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub length: i64,
    pub head_hash: String,
    /// `(sequence, problem)` of the first broken record.
    pub broken: Option<(i64, String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LedgerError(pub String);

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        LedgerError(e.to_string())
    }
}

/// A ledger backend. Calls block: run them off the async executor.
pub trait LedgerStore: Send + Sync {
    fn append(&self, record: NewRecord) -> Result<Appended, LedgerError>;
    fn by_request_id(&self, request_id: &str) -> Result<Option<Record>, LedgerError>;
    fn by_decision_id(&self, decision_id: &str) -> Result<Option<Record>, LedgerError>;
    fn list(&self, filter: &ListFilter) -> Result<Vec<Record>, LedgerError>;
    fn verify(&self) -> Result<Verification, LedgerError>;
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hash of a record: every stored field and the previous hash.
pub fn record_hash(seq: i64, r: &NewRecord, request_hash: &str, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        seq.to_string().as_str(),
        &r.decision_id,
        &r.request_id,
        request_hash,
        &sha256_hex(&r.decision),
        &r.outcome.to_string(),
        &r.as_of,
        &r.created_at,
        &r.rules_digest,
        &r.classifier_rules_digest,
        prev_hash,
    ] {
        h.update(part.as_bytes());
        h.update(b"\n");
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// Checks a chain given in sequence order.
pub fn verify_chain(records: impl Iterator<Item = Record>) -> Verification {
    let mut prev = GENESIS.to_string();
    let mut length = 0;
    for (i, r) in records.enumerate() {
        let expected_seq = i as i64 + 1;
        let problem = if r.seq != expected_seq {
            Some(format!(
                "sequence {} where {expected_seq} was expected (a record is missing)",
                r.seq
            ))
        } else if r.prev_hash != prev {
            Some("its previous-hash does not match the record before it".to_string())
        } else if sha256_hex(&r.body.request) != r.request_hash {
            Some("its request does not match its request hash".to_string())
        } else if record_hash(r.seq, &r.body, &r.request_hash, &r.prev_hash) != r.hash {
            Some("its contents do not match its hash".to_string())
        } else {
            None
        };
        if let Some(p) = problem {
            return Verification {
                length,
                head_hash: prev,
                broken: Some((r.seq, p)),
            };
        }
        prev = r.hash;
        length += 1;
    }
    Verification {
        length,
        head_hash: prev,
        broken: None,
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

/// SQLite in WAL mode with `synchronous = FULL`: a commit is on disk before it returns.
pub struct SqliteLedger {
    writer: Mutex<Connection>,
    reader: Mutex<Connection>,
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

impl SqliteLedger {
    /// Opens (creating if needed) the ledger file.
    pub fn open(path: &Path) -> Result<Self, LedgerError> {
        let writer = open(path)?;
        writer.execute_batch(SCHEMA)?;
        let reader = open(path)?;
        Ok(Self {
            writer: Mutex::new(writer),
            reader: Mutex::new(reader),
        })
    }

    fn one(conn: &Connection, sql_where: &str, value: &str) -> Result<Option<Record>, LedgerError> {
        let sql = format!("SELECT {COLUMNS} FROM decisions WHERE {sql_where} = ?1");
        Ok(conn
            .query_row(&sql, params![value], row_to_record)
            .optional()?)
    }
}

impl LedgerStore for SqliteLedger {
    fn append(&self, record: NewRecord) -> Result<Appended, LedgerError> {
        let mut conn = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if let Some(existing) = Self::one(&tx, "request_id", &record.request_id)? {
            return Ok(Appended::Existing(existing));
        }
        let (last_seq, prev_hash): (i64, String) = tx
            .query_row(
                "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .unwrap_or((0, GENESIS.to_string()));
        let seq = last_seq + 1;
        let request_hash = sha256_hex(&record.request);
        let hash = record_hash(seq, &record, &request_hash, &prev_hash);
        tx.execute(
            &format!("INSERT INTO decisions ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
            params![
                seq,
                record.decision_id,
                record.request_id,
                request_hash,
                record.request,
                record.decision,
                record.outcome,
                record.as_of,
                record.created_at,
                record.rules_digest,
                record.classifier_rules_digest,
                prev_hash,
                hash
            ],
        )?;
        tx.commit()?;
        Ok(Appended::New(Record {
            seq,
            body: record,
            request_hash,
            prev_hash,
            hash,
        }))
    }

    fn by_request_id(&self, request_id: &str) -> Result<Option<Record>, LedgerError> {
        Self::one(
            &self.reader.lock().unwrap_or_else(|e| e.into_inner()),
            "request_id",
            request_id,
        )
    }

    fn by_decision_id(&self, decision_id: &str) -> Result<Option<Record>, LedgerError> {
        Self::one(
            &self.reader.lock().unwrap_or_else(|e| e.into_inner()),
            "decision_id",
            decision_id,
        )
    }

    fn list(&self, f: &ListFilter) -> Result<Vec<Record>, LedgerError> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let sql = format!(
            "SELECT {COLUMNS} FROM decisions
             WHERE (?1 IS NULL OR outcome = ?1) AND (?2 IS NULL OR as_of >= ?2) AND (?3 IS NULL OR as_of < ?3)
               AND (?4 IS NULL OR seq < ?4)
             ORDER BY seq DESC LIMIT ?5"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                f.outcome,
                f.as_of_from,
                f.as_of_until,
                f.before_seq,
                f.limit as i64
            ],
            row_to_record,
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn verify(&self) -> Result<Verification, LedgerError> {
        let conn = self.reader.lock().unwrap_or_else(|e| e.into_inner());
        let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM decisions ORDER BY seq"))?;
        let rows = stmt.query_map([], row_to_record)?;
        let mut records = Vec::new();
        for r in rows {
            records.push(r?);
        }
        Ok(verify_chain(records.into_iter()))
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
}
