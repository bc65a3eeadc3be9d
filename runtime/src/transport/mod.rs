//! Connection I/O that gives many calls' HTTP/2 frames one system call, and
//! the switch that turns it off.
//!
//! # What it depends on in h2
//!
//! Measured against **h2 0.4.20** (hyper 1.x, tonic 0.14; see BENCHMARKS.md,
//! "Coalesced HTTP/2 writes"). Two behaviours of h2 and hyper made every
//! unary call cost a socket write of its own:
//!
//! 1. **h2's frame-size thresholds for copying vs queueing DATA frames**
//!    (`CHAIN_THRESHOLD` = 256 bytes and
//!    `CHAIN_THRESHOLD_WITHOUT_VECTORED_IO` = 1,024 bytes in h2's private
//!    `codec/framed_write.rs`). h2 copies a DATA frame's payload into its
//!    write buffer only below the threshold — 256 bytes when the socket
//!    reports vectored writes, 1,024 otherwise — and queues a larger frame
//!    by reference, flushing before it buffers anything that follows.
//! 2. **A flush per response.** hyper answers each call from its own task;
//!    a finished response wakes the connection task, which tokio runs next,
//!    and which flushes whatever is buffered.
//!
//! On loopback a write also runs the receiving side's TCP processing, so
//! writes were the largest cost of a call. The three pieces here:
//!
//! - [`CoalescedWrites`] ([`coalesce`]), which [`crate::edge::EdgeIncoming`]
//!   gives every accepted connection, reports no vectored writes (so h2
//!   copies frames under 1,024 bytes), holds what h2 writes until h2
//!   flushes, and puts each flush off once by waking its own task, which
//!   tokio queues behind the tasks already ready: the calls ready to answer
//!   add their frames first and leave in one write;
//! - [`SmallFramesLayer`] ([`frames`]) cuts response chunks of 1 to 4 KiB
//!   into frames under 1 KiB, so that they are copied and batched too;
//! - [`CoalescingConnector`] ([`coalesce`]) gives client connections (the
//!   licensing service's to the classifier) the same I/O.
//!
//! The thresholds are mirrored here, not read from h2 (they are private).
//! If an h2 upgrade moves them, or stops flushing per response, this module
//! may turn into extra copies: the test
//! `transport::tests::coalescing_gives_concurrent_calls_fewer_writes` fails
//! when coalescing no longer saves writes.
//!
//! # The switch
//!
//! [`crate::server::Limits::write_coalescing`] (default on) applies to all
//! three pieces of a server: with it off, accepted connections are plain
//! sockets (writes and flushes pass straight through, vectored writes as the
//! socket offers them), response bodies are not re-framed, and the
//! licensing service's classifier connection is plain too. The service
//! binaries take `--no-write-coalescing` (`CLASSIFIER_NO_WRITE_COALESCING`,
//! `LICENSING_NO_WRITE_COALESCING`), as does `exportctl serve`: for A/B
//! measurements, and as a way out should an h2 upgrade make it cost more
//! than it saves.

pub mod coalesce;
pub mod frames;

pub use coalesce::{CoalescedWrites, CoalescingConnector};
pub use frames::{SmallFrames, SmallFramesBody, SmallFramesFuture, SmallFramesLayer};

#[cfg(test)]
mod tests;
