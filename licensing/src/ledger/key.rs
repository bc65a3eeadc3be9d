//! The ledger key: HMAC-SHA-256 over each record's canonical content and the
//! previous hash, so that nobody without the key can rewrite a record and
//! recompute the hashes after it.
//!
//! Key file: at least [`LedgerKey::MIN_LEN`] bytes of key, either as hex
//! digits (a file of hex digits only, surrounding whitespace ignored, e.g.
//! `openssl rand -hex 32 > key`) or as the raw bytes (`head -c 32
//! /dev/urandom > key`). Shorter keys are refused.

use std::path::Path;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{KEYED_PREFIX, LedgerError, NewRecord, Record, canonical};

/// A secret ledger key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct LedgerKey(Arc<[u8]>);

impl std::fmt::Debug for LedgerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LedgerKey({} bytes)", self.0.len())
    }
}

impl LedgerKey {
    /// The fewest key bytes accepted.
    pub const MIN_LEN: usize = 32;

    /// A key from its bytes; fewer than [`Self::MIN_LEN`] are refused.
    pub fn new(bytes: &[u8]) -> Result<Self, LedgerError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(LedgerError(format!(
                "the key is {} bytes; at least {} random bytes are needed (e.g. `openssl rand -hex 32`)",
                bytes.len(),
                Self::MIN_LEN
            )));
        }
        Ok(Self(bytes.into()))
    }

    /// A key from a key file's contents: hex digits only (whitespace around
    /// them ignored) are decoded, anything else is the key itself.
    pub fn from_file_contents(contents: &[u8]) -> Result<Self, LedgerError> {
        let text = contents.trim_ascii();
        if !text.is_empty() && text.iter().all(u8::is_ascii_hexdigit) {
            let bytes = hex::decode(text).map_err(|e| {
                LedgerError(format!("the key file is hex digits but not valid hex: {e}"))
            })?;
            return Self::new(&bytes);
        }
        Self::new(contents)
    }

    /// Reads a key file.
    pub fn read(path: &Path) -> Result<Self, LedgerError> {
        let contents = std::fs::read(path).map_err(|e| LedgerError(format!("cannot read: {e}")))?;
        Self::from_file_contents(&contents)
    }

    /// The MAC of whatever `feed` writes.
    fn mac_of(&self, feed: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC accepts any key length");
        feed(&mut |b| mac.update(b));
        mac
    }

    /// The `hmac-sha256:` tag of whatever `feed` writes.
    fn tag(&self, feed: impl FnOnce(&mut dyn FnMut(&[u8]))) -> String {
        let mac = self.mac_of(feed);
        format!("{KEYED_PREFIX}{}", hex::encode(mac.finalize().into_bytes()))
    }

    /// Whether `tag` is the tag of whatever `feed` writes (constant time).
    fn matches(&self, tag: &str, feed: impl FnOnce(&mut dyn FnMut(&[u8]))) -> bool {
        match tag
            .strip_prefix(KEYED_PREFIX)
            .and_then(|h| hex::decode(h).ok())
        {
            Some(bytes) => self.mac_of(feed).verify_slice(&bytes).is_ok(),
            None => false,
        }
    }

    /// The tag of `parts`, each followed by a newline.
    pub fn mac_lines(&self, parts: &[&str]) -> String {
        self.tag(|update| lines(parts, update))
    }

    /// Whether `tag` is the tag of `parts` (see [`Self::mac_lines`]).
    pub fn verifies_lines(&self, parts: &[&str], tag: &str) -> bool {
        self.matches(tag, |update| lines(parts, update))
    }

    /// The keyed hash of a record (see [`super::chain_hash`]).
    pub fn record_hash(&self, seq: i64, r: &NewRecord, request_hash: &str, prev: &str) -> String {
        self.tag(|update| canonical(seq, r, request_hash, prev, update))
    }

    /// Whether a stored record's keyed hash is right under this key.
    pub fn verifies(&self, r: &Record) -> bool {
        self.matches(&r.hash, |update| {
            canonical(r.seq, &r.body, &r.request_hash, &r.prev_hash, update)
        })
    }
}

fn lines(parts: &[&str], update: &mut dyn FnMut(&[u8])) {
    for p in parts {
        update(p.as_bytes());
        update(b"\n");
    }
}
