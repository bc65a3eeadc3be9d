//! PostgreSQL, for several licensing replicas behind a mesh. Every batch takes
//! a transaction-scoped advisory lock before reading the chain's head, so
//! replicas writing concurrently extend one chain: no lost, duplicate or
//! forked records. A commit returns once PostgreSQL has made it durable.

use postgres::{Client, NoTls, Row};

use super::Lookup;
use super::{
    Appended, BatchWriter, ChainWalk, GroupCommitter, LedgerError, LedgerKey, LedgerStore,
    ListFilter, NewRecord, Owned, PendingAppend, Record, SqlValue, SubmitError, Verification,
    chain_batch, list_query,
};

impl From<postgres::Error> for LedgerError {
    fn from(e: postgres::Error) -> Self {
        LedgerError(e.to_string())
    }
}

/// Key of the advisory lock that serializes appends across replicas.
const CHAIN_LOCK: i64 = 0x6578_706f_7274_6374; // "exportct"

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS decisions (
    seq BIGINT PRIMARY KEY,
    decision_id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL UNIQUE,
    request_hash TEXT NOT NULL,
    request BYTEA NOT NULL,
    decision BYTEA NOT NULL,
    outcome INTEGER NOT NULL,
    as_of TEXT NOT NULL,
    created_at TEXT NOT NULL,
    rules_digest TEXT NOT NULL,
    classifier_rules_digest TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_as_of ON decisions (as_of);
CREATE OR REPLACE FUNCTION exportctl_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the decision ledger is append-only'; END $$;
DROP TRIGGER IF EXISTS decisions_append_only ON decisions;
CREATE TRIGGER decisions_append_only BEFORE UPDATE OR DELETE ON decisions
FOR EACH ROW EXECUTE FUNCTION exportctl_append_only();
";

const COLUMNS: &str = "seq, decision_id, request_id, request_hash, request, decision, outcome, as_of, created_at, rules_digest, classifier_rules_digest, prev_hash, hash";

fn row_to_record(row: &Row) -> Result<Record, LedgerError> {
    Ok(Record {
        seq: row.try_get(0)?,
        body: NewRecord {
            decision_id: row.try_get(1)?,
            request_id: row.try_get(2)?,
            request: row.try_get(4)?,
            decision: row.try_get(5)?,
            outcome: row.try_get(6)?,
            as_of: row.try_get(7)?,
            created_at: row.try_get(8)?,
            rules_digest: row.try_get(9)?,
            classifier_rules_digest: row.try_get(10)?,
        },
        request_hash: row.try_get(3)?,
        prev_hash: row.try_get(11)?,
        hash: row.try_get(12)?,
    })
}

fn one(
    client: &mut impl postgres::GenericClient,
    column: &str,
    value: &str,
) -> Result<Option<Record>, LedgerError> {
    let sql = format!("SELECT {COLUMNS} FROM decisions WHERE {column} = $1");
    client
        .query_opt(&sql, &[&value])?
        .as_ref()
        .map(row_to_record)
        .transpose()
}

/// The last record's sequence and hash.
fn head(client: &mut impl postgres::GenericClient) -> Result<Option<(i64, String)>, LedgerError> {
    client
        .query_opt(
            "SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1",
            &[],
        )?
        .map(|r| -> Result<(i64, String), LedgerError> { Ok((r.try_get(0)?, r.try_get(1)?)) })
        .transpose()
}

struct Writer(Client, Option<LedgerKey>);

impl BatchWriter for Writer {
    fn write_batch(&mut self, batch: Vec<NewRecord>) -> Result<Vec<Appended>, LedgerError> {
        let mut tx = self.0.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK])?;
        let last = head(&mut tx)?;
        let out = chain_batch(self.1.as_ref(), last, batch, |request_id| {
            one(&mut tx, "request_id", request_id)
        })?;
        let insert = tx.prepare(&format!(
            "INSERT INTO decisions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))?;
        for a in &out {
            if let Appended::New(r) = a {
                let b = &r.body;
                tx.execute(
                    &insert,
                    &[
                        &r.seq,
                        &b.decision_id,
                        &b.request_id,
                        &r.request_hash,
                        &b.request,
                        &b.decision,
                        &b.outcome,
                        &b.as_of,
                        &b.created_at,
                        &b.rules_digest,
                        &b.classifier_rules_digest,
                        &r.prev_hash,
                        &r.hash,
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(out)
    }
}

/// PostgreSQL ledger: one writer connection (group commit), one reader
/// connection; each lives on its own thread, because the blocking client must
/// never be used or dropped on the async executor.
pub struct PostgresLedger {
    writer: GroupCommitter,
    reader: Owned<Client>,
    /// Keys new records and checks keyed ones.
    key: Option<LedgerKey>,
}

impl PostgresLedger {
    /// Connects (`postgres://user:pass@host/db`) and creates the schema if
    /// needed; new records are unkeyed.
    pub fn connect(url: &str) -> Result<Self, LedgerError> {
        Self::connect_keyed(url, None)
    }

    /// Connects; with a key, new records are keyed and keyed records are
    /// checked with it.
    pub fn connect_keyed(url: &str, key: Option<LedgerKey>) -> Result<Self, LedgerError> {
        let mut writer = Client::connect(url, NoTls)?;
        // Replicas starting together must not race on the schema.
        let mut tx = writer.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&CHAIN_LOCK])?;
        tx.batch_execute(SCHEMA)?;
        tx.commit()?;
        let reader = Client::connect(url, NoTls)?;
        let writer = GroupCommitter::spawn("ledger-postgres", Writer(writer, key.clone()))
            .map_err(|e| LedgerError(e.to_string()))?;
        let reader = Owned::spawn("ledger-postgres-reader", reader)
            .map_err(|e| LedgerError(e.to_string()))?;
        Ok(Self {
            writer,
            reader,
            key,
        })
    }
}

impl LedgerStore for PostgresLedger {
    fn append(&self, record: NewRecord) -> Result<Appended, LedgerError> {
        self.writer.append(record)
    }

    fn submit(&self, record: NewRecord) -> Result<PendingAppend, SubmitError> {
        self.writer.submit(record)
    }

    fn by_request_id(&self, request_id: &str) -> Result<Option<Record>, LedgerError> {
        let id = request_id.to_string();
        self.reader.call(move |c| one(c, "request_id", &id))?
    }

    fn lookup_request_id(&self, request_id: String) -> Lookup {
        Box::pin(self.reader.ask(move |c| one(c, "request_id", &request_id)))
    }

    fn by_decision_id(&self, decision_id: &str) -> Result<Option<Record>, LedgerError> {
        let id = decision_id.to_string();
        self.reader.call(move |c| one(c, "decision_id", &id))?
    }

    fn list(&self, f: &ListFilter) -> Result<Vec<Record>, LedgerError> {
        let (sql, values) = list_query(f, COLUMNS, |i, v| match v {
            SqlValue::Int(_) => format!("${i}::INTEGER"),
            SqlValue::Big(_) => format!("${i}::BIGINT"),
            SqlValue::Text(_) => format!("${i}::TEXT"),
        });
        self.reader.call(move |c| {
            let params: Vec<&(dyn postgres::types::ToSql + Sync)> = values
                .iter()
                .map(|v| -> &(dyn postgres::types::ToSql + Sync) {
                    match v {
                        SqlValue::Int(v) => v,
                        SqlValue::Big(v) => v,
                        SqlValue::Text(v) => v,
                    }
                })
                .collect();
            let rows = c.query(&sql, &params)?;
            rows.iter().map(row_to_record).collect()
        })?
    }

    fn verify(&self) -> Result<Verification, LedgerError> {
        let key = self.key.clone();
        self.reader.call(move |c| verify(c, key))?
    }

    fn head(&self) -> Result<Option<(i64, String)>, LedgerError> {
        self.reader.call(head)?
    }

    fn hash_at(&self, seq: i64) -> Result<Option<String>, LedgerError> {
        self.reader.call(move |c| {
            c.query_opt("SELECT hash FROM decisions WHERE seq = $1", &[&seq])?
                .map(|r| r.try_get(0))
                .transpose()
                .map_err(LedgerError::from)
        })?
    }
}

fn verify(client: &mut Client, key: Option<LedgerKey>) -> Result<Verification, LedgerError> {
    let mut tx = client.build_transaction().read_only(true).start()?;
    let portal = tx.bind(
        &format!("SELECT {COLUMNS} FROM decisions ORDER BY seq"),
        &[],
    )?;
    let mut walk = ChainWalk::new(key);
    // Page through the chain so a long ledger is never held in memory at once.
    'pages: loop {
        let page = tx.query_portal(&portal, 1000)?;
        if page.is_empty() {
            break;
        }
        for row in &page {
            if !walk.push(&row_to_record(row)?) {
                break 'pages;
            }
        }
    }
    tx.commit()?;
    Ok(walk.finish())
}
