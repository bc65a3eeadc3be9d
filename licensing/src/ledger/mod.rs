//! The append-only decision ledger: every decision with its request, both
//! rules digests and the hash of the previous record, committed durably before
//! the caller is answered.
//!
//! Appends go through one writer thread per ledger that commits whatever has
//! queued up in one transaction (group commit): each caller is answered only
//! after the transaction holding its record is durable.

mod postgres;
mod sqlite;

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use sha2::{Digest, Sha256};

pub use self::postgres::PostgresLedger;
pub use self::sqlite::SqliteLedger;

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

/// Walks a chain record by record, in sequence order.
#[derive(Debug)]
pub struct ChainWalk {
    prev: String,
    length: i64,
    broken: Option<(i64, String)>,
}

impl Default for ChainWalk {
    fn default() -> Self {
        Self {
            prev: GENESIS.to_string(),
            length: 0,
            broken: None,
        }
    }
}

impl ChainWalk {
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
        } else if record_hash(r.seq, &r.body, &r.request_hash, &r.prev_hash) != r.hash {
            Some("its contents do not match its hash".to_string())
        } else {
            None
        };
        match problem {
            Some(p) => {
                self.broken = Some((r.seq, p));
                false
            }
            None => {
                self.prev = r.hash.clone();
                self.length += 1;
                true
            }
        }
    }

    pub fn finish(self) -> Verification {
        Verification {
            length: self.length,
            head_hash: self.prev,
            broken: self.broken,
        }
    }
}

/// Checks a chain given in sequence order.
pub fn verify_chain(
    records: impl Iterator<Item = Result<Record, LedgerError>>,
) -> Result<Verification, LedgerError> {
    let mut walk = ChainWalk::default();
    for r in records {
        if !walk.push(&r?) {
            break;
        }
    }
    Ok(walk.finish())
}

/// Chains a batch onto the ledger's last record: records whose request id is
/// already stored (or earlier in the batch) come back as `Existing`, the rest
/// get the next sequence numbers and hashes. The caller inserts the new ones
/// and commits, all inside one transaction that holds the chain's lock.
pub(crate) fn chain_batch(
    last: Option<(i64, String)>,
    batch: Vec<NewRecord>,
    mut stored: impl FnMut(&str) -> Result<Option<Record>, LedgerError>,
) -> Result<Vec<Appended>, LedgerError> {
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
        let hash = record_hash(seq, &record, &request_hash, &prev);
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
