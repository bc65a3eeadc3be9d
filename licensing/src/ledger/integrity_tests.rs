//! The keyed chain and the anchor checks on chains held in memory: forged
//! and re-chained records, downgrades, truncation, replacement and resets.

use super::anchor::{Anchor, check, read_anchor, waive, write_anchor};
use super::*;
use crate::error::Error;

fn key(byte: u8) -> LedgerKey {
    LedgerKey::new(&[byte; 32]).unwrap()
}

fn new_record(i: usize) -> NewRecord {
    NewRecord {
        decision_id: format!("d{i}"),
        request_id: format!("r{i}"),
        request: vec![i as u8; 4],
        decision: vec![9, i as u8],
        outcome: 3,
        as_of: "2024-01-01".into(),
        created_at: "2024-01-01T00:00:00Z".into(),
        rules_digest: "sha256:p".into(),
        classifier_rules_digest: "sha256:c".into(),
    }
}

/// `chain` extended by `n` records, hashed with `key`.
fn extend(mut chain: Vec<Record>, key: Option<&LedgerKey>, n: usize) -> Vec<Record> {
    let last = chain.last().map(|r| (r.seq, r.hash.clone()));
    let start = chain.len();
    let batch = (start..start + n).map(new_record).collect();
    for a in chain_batch(key, last, batch, |_| Ok(None)).unwrap() {
        match a {
            Appended::New(r) => chain.push(r),
            Appended::Existing(r) => panic!("{r:?}"),
        }
    }
    chain
}

/// What someone with write access but without the key can do: change
/// record `seq` and recompute every hash from it on (`key` = the key they
/// guess, `None` = plain SHA-256).
fn forge(chain: &mut [Record], seq: i64, key: Option<&LedgerKey>) {
    let at = seq as usize - 1;
    let prev = match at {
        0 => GENESIS.to_string(),
        _ => chain[at - 1].hash.clone(),
    };
    chain[at].body.outcome = 1; // NO_LICENSE_REQUIRED
    chain[at].body.decision = b"forged".to_vec();
    relink(&mut chain[at..], &prev, key);
}

fn verify(key: Option<&LedgerKey>, chain: &[Record]) -> Verification {
    verify_chain(key, chain.iter().cloned().map(Ok)).unwrap()
}

fn anchor_of(chain: &[Record], key: Option<&LedgerKey>) -> Anchor {
    let head = chain.last().unwrap();
    Anchor::new(
        chain[0].hash.clone(),
        head.seq,
        head.hash.clone(),
        "2026-01-01T00:00:00Z".into(),
        key,
    )
}

fn check_against(chain: &[Record], anchor: &Anchor, key: Option<&LedgerKey>) -> Result<(), Error> {
    let v = verify(key, chain);
    check(&v, Some(anchor), key, |seq| {
        Ok(chain.get(seq as usize - 1).map(|r| r.hash.clone()))
    })
}

fn refusal(result: Result<(), Error>) -> anchor::Refusal {
    match result {
        Err(Error::LedgerRefused(r)) => r,
        other => panic!("not refused: {other:?}"),
    }
}

#[test]
fn a_keyed_chain_verifies_with_its_key_only() {
    let k = key(1);
    let chain = extend(Vec::new(), Some(&k), 5);
    assert!(chain.iter().all(|r| r.hash.starts_with(KEYED_PREFIX)));
    let v = verify(Some(&k), &chain);
    assert_eq!((v.length, v.broken.clone()), (5, None), "{v:?}");
    assert_eq!(v.keyed_from, Some(1));
    assert_eq!(v.unauthenticated, 0);
    let wrong = verify(Some(&key(2)), &chain);
    assert_eq!(wrong.broken.as_ref().map(|b| b.0), Some(1), "{wrong:?}");
}

#[test]
fn a_forged_record_rechained_with_plain_sha256_breaks_at_that_record() {
    let k = key(1);
    let mut chain = extend(Vec::new(), Some(&k), 6);
    forge(&mut chain, 3, None);
    // Without the key the forgery looks like a downgrade at record 3 too.
    let v = verify(Some(&k), &chain);
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(3), "{v:?}");
    assert!(v.broken.unwrap().1.contains("downgrade"));
    assert_eq!(v.length, 2);
}

#[test]
fn a_forged_record_rechained_with_a_wrong_key_breaks_at_that_record() {
    let k = key(1);
    let mut chain = extend(Vec::new(), Some(&k), 6);
    forge(&mut chain, 4, Some(&key(7)));
    let v = verify(Some(&k), &chain);
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(4), "{v:?}");
    assert!(v.broken.unwrap().1.contains("keyed hash"));
}

#[test]
fn an_unkeyed_ledger_takes_a_key_and_a_downgrade_after_it_is_a_break() {
    let k = key(1);
    let chain = extend(Vec::new(), None, 3);
    let chain = extend(chain, Some(&k), 3);
    let v = verify(Some(&k), &chain);
    assert_eq!((v.length, v.keyed_from), (6, Some(4)), "{v:?}");
    assert!(v.broken.is_none());
    // A writer without the key may not extend it.
    let last = chain.last().map(|r| (r.seq, r.hash.clone()));
    let err = chain_batch(None, last, vec![new_record(9)], |_| Ok(None)).unwrap_err();
    assert!(err.0.contains("keyed"), "{err}");
    // Keyed records rewritten as unkeyed from record 5 on: broken at 5.
    let mut downgraded = chain.clone();
    forge(&mut downgraded, 5, None);
    let v = verify(Some(&k), &downgraded);
    assert_eq!(v.broken.as_ref().map(|b| b.0), Some(5), "{v:?}");
}

#[test]
fn without_the_key_a_keyed_chain_is_followed_but_not_authenticated() {
    let k = key(1);
    let mut chain = extend(Vec::new(), Some(&k), 4);
    let v = verify(None, &chain);
    assert_eq!((v.length, v.unauthenticated), (4, 4), "{v:?}");
    // Even a forgery under another key is not seen without the key: which
    // is why a keyed chain without its key is never reported authenticated.
    forge(&mut chain, 2, Some(&key(9)));
    assert_eq!(verify(None, &chain).unauthenticated, 4);
}

#[test]
fn a_ledger_cut_short_is_refused_and_a_reset_needs_the_anchored_head() {
    let k = key(1);
    let chain = extend(Vec::new(), Some(&k), 8);
    let anchor = anchor_of(&chain, Some(&k));
    assert!(check_against(&chain, &anchor, Some(&k)).is_ok());
    // The ledger may be ahead of its anchor (a crash after commits).
    let longer = extend(chain.clone(), Some(&k), 2);
    assert!(check_against(&longer, &anchor, Some(&k)).is_ok());

    let cut = &chain[..5];
    let r = refusal(check_against(cut, &anchor, Some(&k)));
    assert_eq!(r.kind, "truncated");
    assert!(r.detail.contains("records 6..=8 are gone"), "{}", r.detail);
    assert!(r.detail.contains(&anchor.head_hash), "{}", r.detail);
    assert_eq!(r.reset_hash.as_deref(), Some(anchor.head_hash.as_str()));
    let waived = waive(
        check_against(cut, &anchor, Some(&k)),
        Some(&anchor.head_hash),
    );
    assert!(waived.is_ok(), "{waived:?}");
    let wrong = refusal(waive(
        check_against(cut, &anchor, Some(&k)),
        Some(&cut[4].hash),
    ));
    assert!(
        wrong.detail.contains("not the anchor's head"),
        "{}",
        wrong.detail
    );
}

#[test]
fn a_missing_ledger_is_refused_when_an_anchor_exists() {
    let chain = extend(Vec::new(), None, 3);
    let anchor = anchor_of(&chain, None);
    let r = refusal(check_against(&[], &anchor, None));
    assert_eq!(r.kind, "missing");
    assert!(waive(check_against(&[], &anchor, None), Some(&anchor.head_hash)).is_ok());
}

#[test]
fn a_ledger_rewritten_before_the_anchor_diverges_or_is_another_ledger() {
    let chain = extend(Vec::new(), None, 6);
    let anchor = anchor_of(&chain[..4], None);
    let mut rewritten = chain.clone();
    forge(&mut rewritten, 3, None);
    let r = refusal(check_against(&rewritten, &anchor, None));
    assert_eq!(r.kind, "diverged");
    assert!(r.detail.contains("record 4 has hash"), "{}", r.detail);
    let mut replaced = chain.clone();
    forge(&mut replaced, 1, None);
    assert_eq!(
        refusal(check_against(&replaced, &anchor, None)).kind,
        "replaced"
    );
}

#[test]
fn keyed_records_all_rewritten_as_unkeyed_are_a_downgrade_the_anchor_catches() {
    let k = key(1);
    let chain = extend(extend(Vec::new(), None, 2), Some(&k), 4);
    let anchor = anchor_of(&chain, Some(&k));
    // Every keyed record rewritten unkeyed: a valid-looking unkeyed chain.
    let mut downgraded = chain.clone();
    forge(&mut downgraded, 3, None);
    let v = verify(Some(&k), &downgraded);
    assert!(v.broken.is_none() && v.keyed_from.is_none(), "{v:?}");
    let r = refusal(check_against(&downgraded, &anchor, Some(&k)));
    assert_eq!(r.kind, "diverged");
    assert!(r.detail.contains("downgrade"), "{}", r.detail);
}

#[test]
fn an_edited_or_unsigned_anchor_is_refused() {
    let k = key(1);
    let chain = extend(Vec::new(), Some(&k), 6);
    // Edited to match a ledger cut to 4 records.
    let mut edited = anchor_of(&chain, Some(&k));
    edited.sequence = 4;
    edited.head_hash = chain[3].hash.clone();
    let r = refusal(check_against(&chain[..4], &edited, Some(&k)));
    assert_eq!(r.kind, "anchor-invalid");
    assert_eq!(r.reset_hash, None, "an edited anchor cannot be accepted");
    let mut unsigned = anchor_of(&chain[..4], None);
    unsigned.mac = None;
    assert_eq!(
        refusal(check_against(&chain[..4], &unsigned, Some(&k))).kind,
        "anchor-invalid"
    );
    // Unsigned with an unkeyed head (from before the key was introduced,
    // or written to match a ledger cut back to its unkeyed part): refused
    // unless the reset of that head is accepted.
    let mixed = extend(extend(Vec::new(), None, 3), Some(&k), 3);
    let before_key = anchor_of(&mixed[..3], None);
    let r = refusal(check_against(&mixed[..3], &before_key, Some(&k)));
    assert_eq!(
        (r.kind, r.reset_hash.as_deref()),
        ("anchor-invalid", Some(mixed[2].hash.as_str()))
    );
    assert!(
        waive(
            check_against(&mixed, &before_key, Some(&k)),
            Some(&mixed[2].hash)
        )
        .is_ok()
    );
    // Written with another key.
    let other = anchor_of(&chain, Some(&key(5)));
    assert_eq!(
        refusal(check_against(&chain, &other, Some(&k))).kind,
        "anchor-invalid"
    );
}

#[test]
fn a_broken_chain_is_refused_and_no_reset_waives_it() {
    let chain = extend(Vec::new(), None, 4);
    let anchor = anchor_of(&chain, None);
    let mut broken = chain.clone();
    broken[2].body.outcome = 1;
    let r = refusal(check_against(&broken, &anchor, None));
    assert_eq!(r.kind, "broken");
    assert!(r.detail.contains("record 3"), "{}", r.detail);
    let still = refusal(waive(
        check_against(&broken, &anchor, None),
        Some(&anchor.head_hash),
    ));
    assert_eq!(still.kind, "broken");
}

#[test]
fn key_files_are_hex_or_raw_and_at_least_32_bytes() {
    let hex64 = "ab".repeat(32);
    assert!(LedgerKey::from_file_contents(format!("{hex64}\n").as_bytes()).is_ok());
    let short_hex = LedgerKey::from_file_contents("ab".repeat(31).as_bytes()).unwrap_err();
    assert!(short_hex.0.contains("31 bytes"), "{short_hex}");
    assert!(LedgerKey::from_file_contents(&[0xfe; 32]).is_ok());
    assert!(LedgerKey::from_file_contents(&[0xfe; 31]).is_err());
    assert!(LedgerKey::from_file_contents(b"").is_err());
    // Hex and raw spellings of the same bytes are the same key.
    let raw = LedgerKey::new(&[0xab; 32]).unwrap();
    let hex = LedgerKey::from_file_contents(hex64.as_bytes()).unwrap();
    let r = new_record(1);
    assert_eq!(
        raw.record_hash(1, &r, "h", GENESIS),
        hex.record_hash(1, &r, "h", GENESIS)
    );
    assert!(!format!("{raw:?}").contains("ab"), "the key is not shown");
}

#[test]
fn anchors_are_written_whole_and_read_back() {
    let dir = std::env::temp_dir().join(format!("exportctl-anchor-unit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = anchor::anchor_file(&dir);
    assert_eq!(file, dir.join(anchor::ANCHOR_FILE_NAME));
    assert_eq!(read_anchor(&file).unwrap(), None);
    let k = key(1);
    let chain = extend(Vec::new(), Some(&k), 2);
    let a = anchor_of(&chain, Some(&k));
    write_anchor(&file, &a).unwrap();
    let back = read_anchor(&file).unwrap().unwrap();
    assert_eq!(back, a);
    assert_eq!(back.authentic(Some(&k)), Some(true));
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    std::fs::write(&file, b"not json").unwrap();
    assert!(read_anchor(&file).is_err());
    std::fs::remove_dir_all(&dir).ok();
}
