//! The workspace integration tests, in one test binary: whole services on
//! real loopback sockets. Each module is one area; run one with a name
//! filter, e.g. `cargo test -p exportctl-tests --test it overload::`. Shared
//! helpers are in the `exportctl_tests` library (tests/src/lib.rs).
//!
//! The tests share one process: names of temporary files, ledgers and
//! databases carry the module's own prefix, and `reload::` sends SIGHUP to
//! the process (servers without a rules directory ignore it; others reload
//! unchanged packs). The classifier outage test is the one exception, in its
//! own binary (tests/tests/outage.rs): it measures this process's file
//! descriptors and RSS, and needs its classifier's port to stay free while
//! the classifier is down, which tests running beside it would disturb.

mod auth;
mod classifier;
mod edge;
mod hostile;
mod licensing;
mod metrics;
mod overload;
mod postgres;
mod readback;
mod reload;
mod scenarios;
mod screening_lists;
mod shutdown;
mod tls;
mod trace;
