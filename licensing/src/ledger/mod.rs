//! The append-only decision ledger: every decision with its request, both
//! rules digests and the hash of the previous record, committed durably before
//! the caller is answered.
//!
//! Appends go through one writer thread per ledger that commits whatever has
//! queued up in one transaction (group commit): each caller is answered only
//! after the transaction holding its record is durable.
//!
//! A record's hash is `sha256:` over its canonical content and the previous
//! hash, or, with a [`LedgerKey`], `hmac-sha256:` (HMAC-SHA-256 under that
//! key) over the same bytes. A ledger may begin unkeyed; its first keyed
//! record starts the keyed segment, after which an unkeyed record is a break
//! (a downgrade). The [`anchor`] module publishes the head outside the
//! ledger so that truncation, deletion and replacement are detected too.

pub mod anchor;
mod key;
mod postgres;
mod sqlite;

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use sha2::{Digest, Sha256};

pub use self::key::LedgerKey;
pub use self::postgres::PostgresLedger;
pub use self::sqlite::SqliteLedger;

/// Prefix of an unkeyed record hash (plain SHA-256).
pub const UNKEYED_PREFIX: &str = "sha256:";
/// Prefix of a keyed record hash (HMAC-SHA-256 under the ledger key).
pub const KEYED_PREFIX: &str = "hmac-sha256:";

/// The previous-hash of the first record.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// Most records one group commit writes.
pub const MAX_BATCH: usize = 512;
/// Appends queued for the writer before callers wait for room.
pub const QUEUE: usize = 4096;

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

/// Filters of a listing; `before_seq` pages backwards (newest first),
/// `after` pages in any [`ListOrder`].
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub outcome: Option<i32>,
    pub as_of_from: Option<String>,
    pub as_of_until: Option<String>,
    pub before_seq: Option<i64>,
    pub limit: usize,
    pub order: ListOrder,
    /// Keyset paging: only records after the one with this as_of and
    /// sequence, in `order`.
    pub after: Option<(String, i64)>,
}

/// The order of a listing; ties (same as_of) in sequence order, in the
/// same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ListOrder {
    /// Sequence descending (newest recorded first).
    #[default]
    NewestFirst,
    /// Sequence ascending.
    OldestFirst,
    /// Shipment date descending.
    AsOfDesc,
    /// Shipment date ascending.
    AsOfAsc,
}

/// A value bound to a listing's query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Int(i32),
    Big(i64),
    Text(String),
}

/// The `SELECT` of a listing and its values, with the store's placeholder
/// for value `i` (1-based) given by `placeholder`.
pub(crate) fn list_query(
    f: &ListFilter,
    columns: &str,
    placeholder: impl Fn(usize, &SqlValue) -> String,
) -> (String, Vec<SqlValue>) {
    let mut values = Vec::new();
    let mut conditions = Vec::new();
    let mut bind = |v: SqlValue| {
        values.push(v);
        placeholder(values.len(), values.last().expect("just pushed"))
    };
    if let Some(o) = f.outcome {
        conditions.push(format!("outcome = {}", bind(SqlValue::Int(o))));
    }
    if let Some(d) = &f.as_of_from {
        conditions.push(format!("as_of >= {}", bind(SqlValue::Text(d.clone()))));
    }
    if let Some(d) = &f.as_of_until {
        conditions.push(format!("as_of < {}", bind(SqlValue::Text(d.clone()))));
    }
    if let Some(s) = f.before_seq {
        conditions.push(format!("seq < {}", bind(SqlValue::Big(s))));
    }
    if let Some((as_of, seq)) = &f.after {
        let c = match f.order {
            ListOrder::NewestFirst => format!("seq < {}", bind(SqlValue::Big(*seq))),
            ListOrder::OldestFirst => format!("seq > {}", bind(SqlValue::Big(*seq))),
            ListOrder::AsOfDesc | ListOrder::AsOfAsc => {
                let a = bind(SqlValue::Text(as_of.clone()));
                let s = bind(SqlValue::Big(*seq));
                let cmp = if f.order == ListOrder::AsOfDesc {
                    '<'
                } else {
                    '>'
                };
                format!("(as_of {cmp} {a} OR (as_of = {a} AND seq {cmp} {s}))")
            }
        };
        conditions.push(c);
    }
    let order = match f.order {
        ListOrder::NewestFirst => "seq DESC",
        ListOrder::OldestFirst => "seq ASC",
        ListOrder::AsOfDesc => "as_of DESC, seq DESC",
        ListOrder::AsOfAsc => "as_of ASC, seq ASC",
    };
    let limit = bind(SqlValue::Big(f.limit as i64));
    let wheres = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    (
        format!("SELECT {columns} FROM decisions{wheres} ORDER BY {order} LIMIT {limit}"),
        values,
    )
}

/// Result of walking the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    /// Records that verify, from record 1 on.
    pub length: i64,
    /// Hash of the last record that verifies ([`GENESIS`] for none).
    pub head_hash: String,
    /// `(sequence, problem)` of the first broken record.
    pub broken: Option<(i64, String)>,
    /// Hash of record 1: what identifies this ledger in an anchor.
    pub first_hash: Option<String>,
    /// Sequence of the first keyed (`hmac-sha256:`) record, if any.
    pub keyed_from: Option<i64>,
    /// Keyed records whose MAC could not be checked because no key was
    /// given: their links were followed but their authenticity is unknown.
    pub unauthenticated: i64,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct LedgerError(pub String);

/// A ledger backend. Calls block: run them off the async executor.
pub trait LedgerStore: Send + Sync {
    fn append(&self, record: NewRecord) -> Result<Appended, LedgerError>;
    /// Queues `record` for the next group commit without blocking; the
    /// returned [`PendingAppend`] resolves once the transaction holding it is
    /// durable. A full queue is refused at once ([`SubmitError::Full`]).
    fn submit(&self, record: NewRecord) -> Result<PendingAppend, SubmitError>;
    fn by_request_id(&self, request_id: &str) -> Result<Option<Record>, LedgerError>;
    /// `by_request_id` on the store's own thread, answered on a future: the
    /// lookup every Decide makes first, without blocking an async worker or
    /// queueing behind a long list or chain walk.
    fn lookup_request_id(&self, request_id: String) -> Lookup;
    fn by_decision_id(&self, decision_id: &str) -> Result<Option<Record>, LedgerError>;
    fn list(&self, filter: &ListFilter) -> Result<Vec<Record>, LedgerError>;
    /// Walks the whole chain, checking keyed hashes with the store's key.
    fn verify(&self) -> Result<Verification, LedgerError>;
    /// The last committed record's sequence and hash (`None` when empty).
    /// Committed means durable, so an anchor made from it is never ahead of
    /// what a crash leaves.
    fn head(&self) -> Result<Option<(i64, String)>, LedgerError>;
    /// The stored hash of record `seq`, if there is one.
    fn hash_at(&self, seq: i64) -> Result<Option<String>, LedgerError>;
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The unkeyed hash of a record: every stored field and the previous hash.
pub fn record_hash(seq: i64, r: &NewRecord, request_hash: &str, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    canonical(seq, r, request_hash, prev_hash, |b| h.update(b));
    format!("{UNKEYED_PREFIX}{}", hex::encode(h.finalize()))
}

/// A record's hash: keyed (`hmac-sha256:`) with a key, else unkeyed (`sha256:`).
pub fn chain_hash(
    key: Option<&LedgerKey>,
    seq: i64,
    r: &NewRecord,
    request_hash: &str,
    prev_hash: &str,
) -> String {
    match key {
        Some(key) => key.record_hash(seq, r, request_hash, prev_hash),
        None => record_hash(seq, r, request_hash, prev_hash),
    }
}

/// Feeds a record's canonical content (every stored field and the previous
/// hash, one per line) to `update`: the bytes both hash forms cover.
fn canonical(
    seq: i64,
    r: &NewRecord,
    request_hash: &str,
    prev_hash: &str,
    mut update: impl FnMut(&[u8]),
) {
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
        update(part.as_bytes());
        update(b"\n");
    }
}

/// Recomputes the links and hashes of consecutive `records` so that they
/// follow `prev` (with `key`, keyed; without, plain SHA-256): what someone
/// who rewrote a record would do to the rest of the chain. The tests of the
/// keyed chain and of the anchor forge ledgers with it.
pub fn relink(records: &mut [Record], prev: &str, key: Option<&LedgerKey>) {
    let mut prev = prev.to_string();
    for r in records {
        r.prev_hash = std::mem::take(&mut prev);
        r.hash = chain_hash(key, r.seq, &r.body, &r.request_hash, &r.prev_hash);
        prev = r.hash.clone();
    }
}

/// Walks a chain record by record, in sequence order.
#[derive(Debug)]
pub struct ChainWalk {
    prev: String,
    length: i64,
    broken: Option<(i64, String)>,
    key: Option<LedgerKey>,
    first_hash: Option<String>,
    keyed_from: Option<i64>,
    unauthenticated: i64,
}

impl Default for ChainWalk {
    fn default() -> Self {
        Self::new(None)
    }
}

impl ChainWalk {
    /// A walk that checks keyed hashes with `key` (without one, keyed
    /// records are followed but counted as unauthenticated).
    pub fn new(key: Option<LedgerKey>) -> Self {
        Self {
            prev: GENESIS.to_string(),
            length: 0,
            broken: None,
            key,
            first_hash: None,
            keyed_from: None,
            unauthenticated: 0,
        }
    }

    /// What is wrong with `r`'s own hash, given the records before it.
    fn hash_problem(&mut self, r: &Record) -> Option<String> {
        if r.hash.starts_with(KEYED_PREFIX) {
            self.keyed_from.get_or_insert(r.seq);
            return match &self.key {
                None => {
                    self.unauthenticated += 1;
                    None
                }
                Some(key) => (!key.verifies(r)).then(|| {
                    "its contents do not match its keyed hash (edited, or keyed with another key)"
                        .to_string()
                }),
            };
        }
        if !r.hash.starts_with(UNKEYED_PREFIX) {
            return Some("its hash is neither sha256: nor hmac-sha256:".to_string());
        }
        if let Some(from) = self.keyed_from {
            return Some(format!(
                "it is hashed without the key although the chain is keyed from record {from} (a downgrade)"
            ));
        }
        (record_hash(r.seq, &r.body, &r.request_hash, &r.prev_hash) != r.hash)
            .then(|| "its contents do not match its hash".to_string())
    }

    /// Checks the next record; false once the chain is broken.
    pub fn push(&mut self, r: &Record) -> bool {
        if self.broken.is_some() {
            return false;
        }
        let expected_seq = self.length + 1;
        let problem = if r.seq != expected_seq {
            Some(format!(
                "sequence {} where {expected_seq} was expected (a record is missing)",
                r.seq
            ))
        } else if r.prev_hash != self.prev {
            Some("its previous-hash does not match the record before it".to_string())
        } else if sha256_hex(&r.body.request) != r.request_hash {
            Some("its request does not match its request hash".to_string())
        } else {
            self.hash_problem(r)
        };
        match problem {
            Some(p) => {
                self.broken = Some((r.seq, p));
                false
            }
            None => {
                self.prev = r.hash.clone();
                self.length += 1;
                if self.length == 1 {
                    self.first_hash = Some(r.hash.clone());
                }
                true
            }
        }
    }

    /// The verification so far.
    pub fn finish(self) -> Verification {
        Verification {
            length: self.length,
            head_hash: self.prev,
            broken: self.broken,
            first_hash: self.first_hash,
            keyed_from: self.keyed_from,
            unauthenticated: self.unauthenticated,
        }
    }
}

/// Checks a chain given in sequence order, keyed hashes with `key`.
pub fn verify_chain(
    key: Option<&LedgerKey>,
    records: impl Iterator<Item = Result<Record, LedgerError>>,
) -> Result<Verification, LedgerError> {
    let mut walk = ChainWalk::new(key.cloned());
    for r in records {
        if !walk.push(&r?) {
            break;
        }
    }
    Ok(walk.finish())
}

/// Chains a batch onto the ledger's last record: records whose request id is
/// already stored (or earlier in the batch) come back as `Existing`, the rest
/// get the next sequence numbers and hashes (keyed with `key`). The caller
/// inserts the new ones and commits, all inside one transaction that holds
/// the chain's lock. Without a key, a keyed chain is not extended: an
/// unkeyed record after keyed ones would break it.
pub(crate) fn chain_batch(
    key: Option<&LedgerKey>,
    last: Option<(i64, String)>,
    batch: Vec<NewRecord>,
    mut stored: impl FnMut(&str) -> Result<Option<Record>, LedgerError>,
) -> Result<Vec<Appended>, LedgerError> {
    if key.is_none()
        && let Some((seq, hash)) = &last
        && hash.starts_with(KEYED_PREFIX)
    {
        return Err(LedgerError(format!(
            "the ledger is keyed (record {seq}) and this writer has no key: nothing appended"
        )));
    }
    let (mut seq, mut prev) = last.unwrap_or((0, GENESIS.to_string()));
    let mut out: Vec<Appended> = Vec::with_capacity(batch.len());
    for record in batch {
        let earlier = out.iter().find_map(|a| match a {
            Appended::New(r) if r.body.request_id == record.request_id => Some(r.clone()),
            _ => None,
        });
        if let Some(r) = earlier {
            out.push(Appended::Existing(r));
            continue;
        }
        if let Some(r) = stored(&record.request_id)? {
            out.push(Appended::Existing(r));
            continue;
        }
        seq += 1;
        let request_hash = sha256_hex(&record.request);
        let hash = chain_hash(key, seq, &record, &request_hash, &prev);
        let prev_hash = std::mem::replace(&mut prev, hash.clone());
        out.push(Appended::New(Record {
            seq,
            body: record,
            request_hash,
            prev_hash,
            hash,
        }));
    }
    Ok(out)
}

/// A backend's write side: one transaction per batch.
pub(crate) trait BatchWriter: Send + 'static {
    fn write_batch(&mut self, batch: Vec<NewRecord>) -> Result<Vec<Appended>, LedgerError>;
}

struct Job {
    record: NewRecord,
    reply: tokio::sync::oneshot::Sender<Result<Appended, LedgerError>>,
}

/// A record queued for a group commit: [`PendingAppend::durable`] resolves
/// once the transaction holding it has committed (or failed).
#[derive(Debug)]
pub struct PendingAppend(tokio::sync::oneshot::Receiver<Result<Appended, LedgerError>>);

impl PendingAppend {
    pub async fn durable(self) -> Result<Appended, LedgerError> {
        self.0.await.map_err(|_| stopped())?
    }
}

/// Why a record could not be queued.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SubmitError {
    /// The write queue is full: the ledger is behind; try again later.
    #[error("the ledger's write queue is full ({QUEUE} records)")]
    Full,
    #[error(transparent)]
    Failed(#[from] LedgerError),
}

fn stopped() -> LedgerError {
    LedgerError("the ledger writer has stopped".into())
}

/// The writer thread and the queue to it.
pub(crate) struct GroupCommitter {
    queue: SyncSender<Job>,
}

impl GroupCommitter {
    pub(crate) fn spawn(name: &str, writer: impl BatchWriter) -> std::io::Result<Self> {
        let (queue, jobs) = sync_channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || write_loop(writer, jobs))?;
        Ok(Self { queue })
    }

    /// Queues a record without blocking (see [`LedgerStore::submit`]).
    pub(crate) fn submit(&self, record: NewRecord) -> Result<PendingAppend, SubmitError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        match self.queue.try_send(Job { record, reply }) {
            Ok(()) => Ok(PendingAppend(answer)),
            Err(TrySendError::Full(_)) => Err(SubmitError::Full),
            Err(TrySendError::Disconnected(_)) => Err(SubmitError::Failed(stopped())),
        }
    }

    /// Queues a record (waiting for room) and blocks until the transaction
    /// holding it is durable. Not for async worker threads.
    pub(crate) fn append(&self, record: NewRecord) -> Result<Appended, LedgerError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue
            .send(Job { record, reply })
            .map_err(|_| stopped())?;
        answer.blocking_recv().map_err(|_| stopped())?
    }
}

fn write_loop(mut writer: impl BatchWriter, jobs: Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (records, replies): (Vec<NewRecord>, Vec<_>) =
            batch.into_iter().map(|j| (j.record, j.reply)).unzip();
        match writer.write_batch(records) {
            Ok(results) => {
                for (result, reply) in results.into_iter().zip(replies) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "ledger batch failed; nothing in it was acknowledged");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }
}

type Task<T> = Box<dyn FnOnce(&mut T) + Send>;

/// An answer from a store's own thread.
pub type Lookup =
    std::pin::Pin<Box<dyn Future<Output = Result<Option<Record>, LedgerError>> + Send>>;

/// A value owned by its own thread; calls run there, one at a time, and it is
/// dropped there.
pub(crate) struct Owned<T> {
    tasks: SyncSender<Task<T>>,
}

impl<T: Send + 'static> Owned<T> {
    pub(crate) fn spawn(name: &str, mut value: T) -> std::io::Result<Self> {
        let (tasks, rx) = sync_channel::<Task<T>>(QUEUE);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while let Ok(task) = rx.recv() {
                    task(&mut value);
                }
            })?;
        Ok(Self { tasks })
    }

    /// Runs `f` on the owning thread and answers on a future; a full queue
    /// is refused at once rather than waited on.
    pub(crate) fn ask<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut T) -> Result<R, LedgerError> + Send + 'static,
    ) -> impl Future<Output = Result<R, LedgerError>> + Send + 'static {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let sent = self
            .tasks
            .try_send(Box::new(move |v| {
                let _ = reply.send(f(v));
            }))
            .map_err(|e| match e {
                std::sync::mpsc::TrySendError::Full(_) => {
                    LedgerError("the ledger reader is busy".into())
                }
                std::sync::mpsc::TrySendError::Disconnected(_) => {
                    LedgerError("the ledger reader has stopped".into())
                }
            });
        async move {
            sent?;
            answer
                .await
                .map_err(|_| LedgerError("the ledger reader has stopped".into()))?
        }
    }

    pub(crate) fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> Result<R, LedgerError> {
        let (reply, answer) = sync_channel(1);
        self.tasks
            .send(Box::new(move |v| {
                let _ = reply.send(f(v));
            }))
            .map_err(|_| LedgerError("the ledger reader has stopped".into()))?;
        answer
            .recv()
            .map_err(|_| LedgerError("the ledger reader has stopped".into()))
    }
}

#[cfg(test)]
mod integrity_tests;
