//! The edge of a server: which TCP connections are admitted and how long
//! they may stay.
//!
//! - **A connection cap** ([`Connections`]): at most `max_connections` are
//!   open at once. At the cap, a new connection takes the place of the one
//!   that has been idle longest (no call in flight; a connection that never
//!   sent a byte goes first). When every open connection has a call in
//!   flight, up to [`HEALTH_HEADROOM`] more are admitted *for health checks
//!   only* (any other call on them is answered `RESOURCE_EXHAUSTED`), each
//!   closed [`HEADROOM_TIMEOUT`] after it falls silent, so that a liveness
//!   probe still gets an answer from a saturated server. Beyond that a new
//!   connection is refused — on a plaintext server with an HTTP/2 `GOAWAY`
//!   (`ENHANCE_YOUR_CALM`, "connection limit reached") so that a gRPC client
//!   reports why, under TLS by closing it.
//! - **A handshake timeout**: a connection that has sent nothing within
//!   `handshake_timeout` is closed (TLS handshakes get the same bound from
//!   tonic's TLS acceptor).
//! - **An idle timeout**: a connection with no call in flight for
//!   `idle_timeout` is closed. Bytes without calls (HTTP/2 pings) do not
//!   keep it open; the connection cap bounds what an idle client can hold
//!   before that.
//! - **An fd budget** ([`fd_budget`]): the cap is kept below the process's
//!   file-descriptor limit, with room left for the ledger, the metrics port
//!   and health checks, so that accepting never fails for want of a
//!   descriptor. If it does fail anyway (descriptors used elsewhere), the
//!   idlest connection is closed and accepting pauses briefly instead of
//!   spinning.
//!
//! Calls are counted per connection by the load-shedding layer
//! ([`crate::shed`]), which finds a call's connection by its peer address.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker, ready};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::transport::server::{Connected, TcpConnectInfo, TcpIncoming, TlsConnectInfo};

use crate::transport::CoalescedWrites;

/// A read within this long of an idle timer firing means a call may be on
/// its way: the connection is not closed yet.
const ARRIVAL_GRACE: Duration = Duration::from_secs(1);
/// Pause after an accept failed for want of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// Descriptors kept out of the connection budget (ledger, metrics,
/// listeners, the health-check headroom).
pub const FD_RESERVE: u64 = 64;
/// Connections admitted above the cap, for health checks only.
pub const HEALTH_HEADROOM: usize = 8;
/// Handshake and idle timeout of a headroom connection.
pub const HEADROOM_TIMEOUT: Duration = Duration::from_secs(2);
/// The one call a headroom connection may make.
pub const HEALTH_CHECK: &str = "/grpc.health.v1.Health/Check";

/// What a server sends a connection it cannot admit: an empty SETTINGS frame
/// (the server preface) and a GOAWAY (last stream 0, ENHANCE_YOUR_CALM) whose
/// debug data says why.
const REFUSAL: &[u8] = &{
    const DEBUG: &[u8; 25] = b"connection limit reached\n";
    let mut frame = [0u8; 9 + 9 + 8 + 25];
    // SETTINGS: length 0, type 0x4, no flags, stream 0.
    frame[3] = 0x4;
    // GOAWAY: length 8 + debug, type 0x7, no flags, stream 0.
    frame[9 + 2] = (8 + DEBUG.len()) as u8;
    frame[9 + 3] = 0x7;
    // Last stream id 0 (bytes 18..22), error code ENHANCE_YOUR_CALM = 0xb.
    frame[9 + 9 + 7] = 0xb;
    let mut i = 0;
    while i < DEBUG.len() {
        frame[9 + 9 + 8 + i] = DEBUG[i];
        i += 1;
    }
    frame
};

/// Why a connection was closed by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closed {
    Idle,
    Handshake,
    Evicted,
}

/// Counters of the edge, for metrics and tests.
#[derive(Debug, Default)]
pub struct EdgeStats {
    pub accepted: AtomicU64,
    pub refused: AtomicU64,
    pub evicted: AtomicU64,
    pub closed_idle: AtomicU64,
    pub closed_handshake: AtomicU64,
    pub accept_errors: AtomicU64,
}

/// The open connections of one server, and the limits they live under.
#[derive(Debug)]
pub struct Connections {
    max: usize,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    epoch: Instant,
    open: Mutex<HashMap<SocketAddr, Arc<Connection>>>,
    pub stats: EdgeStats,
}

/// One admitted connection: its calls in flight and its timers' inputs.
#[derive(Debug)]
pub struct Connection {
    epoch: Instant,
    /// Admitted above the cap: health checks only, short timeouts.
    headroom: bool,
    accepted_ms: u64,
    calls: AtomicUsize,
    streams: AtomicUsize,
    /// When the last call ended (or the connection was accepted), ms since epoch.
    idle_since_ms: AtomicU64,
    last_read_ms: AtomicU64,
    seen_bytes: AtomicBool,
    closing: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Connection {
    fn new(epoch: Instant, headroom: bool) -> Self {
        let now = ms_since(epoch);
        Self {
            epoch,
            headroom,
            accepted_ms: now,
            calls: AtomicUsize::new(0),
            streams: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(now),
            last_read_ms: AtomicU64::new(now),
            seen_bytes: AtomicBool::new(false),
            closing: AtomicBool::new(false),
            waker: Mutex::new(None),
        }
    }

    /// Counts a call (a stream if `stream`) until the returned guard drops;
    /// gives the number of streams now open on this connection.
    pub fn call_started(self: &Arc<Self>, stream: bool) -> (ConnectionCall, usize) {
        self.calls.fetch_add(1, Ordering::AcqRel);
        let streams = if stream {
            self.streams.fetch_add(1, Ordering::AcqRel) + 1
        } else {
            0
        };
        (
            ConnectionCall {
                connection: self.clone(),
                stream,
            },
            streams,
        )
    }

    /// Whether this connection was admitted above the cap, for health checks only.
    pub fn is_headroom(&self) -> bool {
        self.headroom
    }

    /// Calls in flight on this connection.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Acquire)
    }

    fn close(&self) {
        self.closing.store(true, Ordering::Release);
        if let Some(w) = self.waker.lock().unwrap_or_else(|e| e.into_inner()).take() {
            w.wake();
        }
    }

    /// Eviction order: never spoke first, then the longest idle.
    fn eviction_key(&self) -> (bool, u64) {
        (
            self.seen_bytes.load(Ordering::Relaxed),
            self.idle_since_ms.load(Ordering::Relaxed),
        )
    }
}

/// A call counted on its connection until dropped.
#[derive(Debug)]
pub struct ConnectionCall {
    connection: Arc<Connection>,
    stream: bool,
}

impl Drop for ConnectionCall {
    fn drop(&mut self) {
        let c = &self.connection;
        if self.stream {
            c.streams.fetch_sub(1, Ordering::AcqRel);
        }
        c.idle_since_ms.store(ms_since(c.epoch), Ordering::Release);
        c.calls.fetch_sub(1, Ordering::AcqRel);
    }
}

fn ms_since(epoch: Instant) -> u64 {
    epoch.elapsed().as_millis() as u64
}

impl Connections {
    /// A registry admitting at most `max` connections (at least 1).
    pub fn new(max: usize, handshake_timeout: Duration, idle_timeout: Duration) -> Self {
        Self {
            max: max.max(1),
            handshake_timeout,
            idle_timeout,
            epoch: Instant::now(),
            open: Mutex::new(HashMap::new()),
            stats: EdgeStats::default(),
        }
    }

    /// Most connections open at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SocketAddr, Arc<Connection>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a connection from `peer`: under the cap; at the cap in place of
    /// the idlest connection; when all are busy, in the health-check
    /// headroom; `None` when that is full too.
    fn admit(&self, peer: SocketAddr) -> Option<Arc<Connection>> {
        let mut open = self.lock();
        let mut headroom = false;
        if open.len() >= self.max {
            let above = open.values().filter(|c| c.headroom).count();
            let evicted = open.len() - above >= self.max
                && Self::evict_idlest(&mut open, ms_since(self.epoch));
            if evicted {
                self.stats.evicted.fetch_add(1, Ordering::Relaxed);
            }
            if open.len() - above >= self.max && !evicted {
                if above >= HEALTH_HEADROOM {
                    self.stats.refused.fetch_add(1, Ordering::Relaxed);
                    return None;
                }
                headroom = true;
            }
        }
        let connection = Arc::new(Connection::new(self.epoch, headroom));
        open.insert(peer, connection.clone());
        self.stats.accepted.fetch_add(1, Ordering::Relaxed);
        Some(connection)
    }

    /// Closes the open connection idle longest, if one (within the cap) has
    /// no call in flight and has read nothing within [`ARRIVAL_GRACE`] (a call
    /// may be on its way).
    fn evict_idlest(open: &mut HashMap<SocketAddr, Arc<Connection>>, now_ms: u64) -> bool {
        let grace = ARRIVAL_GRACE.as_millis() as u64;
        let victim = open
            .iter()
            .filter(|(_, c)| {
                c.calls() == 0
                    && !c.headroom
                    && (!c.seen_bytes.load(Ordering::Relaxed)
                        || c.last_read_ms.load(Ordering::Relaxed) + grace <= now_ms)
            })
            .min_by_key(|(_, c)| c.eviction_key())
            .map(|(peer, _)| *peer);
        match victim.and_then(|peer| open.remove(&peer)) {
            Some(c) => {
                c.close();
                true
            }
            None => false,
        }
    }

    fn evict_one(&self) {
        if Self::evict_idlest(&mut self.lock(), ms_since(self.epoch)) {
            self.stats.evicted.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn forget(&self, peer: SocketAddr, connection: &Arc<Connection>) {
        let mut open = self.lock();
        if open.get(&peer).is_some_and(|c| Arc::ptr_eq(c, connection)) {
            open.remove(&peer);
        }
    }

    /// The connection a call arrived on (by the peer address tonic records
    /// in the request's extensions, plain or TLS).
    pub fn of(&self, extensions: &http::Extensions) -> Option<Arc<Connection>> {
        let peer = extensions
            .get::<TcpConnectInfo>()
            .and_then(TcpConnectInfo::remote_addr)
            .or_else(|| {
                extensions
                    .get::<TlsConnectInfo<TcpConnectInfo>>()
                    .and_then(|i| i.get_ref().remote_addr())
            })?;
        self.lock().get(&peer).cloned()
    }

    /// What a connection's timer decides now: close it (and why), or look
    /// again at the returned time (ms since epoch).
    fn check(&self, c: &Connection) -> Result<u64, Closed> {
        self.check_at(c, ms_since(self.epoch))
    }

    fn check_at(&self, c: &Connection, now: u64) -> Result<u64, Closed> {
        if c.closing.load(Ordering::Acquire) {
            return Err(Closed::Evicted);
        }
        let (handshake_timeout, idle_timeout) = self.timeouts(c);
        if !c.seen_bytes.load(Ordering::Acquire) {
            let deadline = c.accepted_ms + handshake_timeout.as_millis() as u64;
            return if now >= deadline {
                Err(Closed::Handshake)
            } else {
                Ok(deadline)
            };
        }
        if c.calls() > 0 {
            return Ok(now + idle_timeout.as_millis() as u64);
        }
        let idle_deadline =
            c.idle_since_ms.load(Ordering::Acquire) + idle_timeout.as_millis() as u64;
        let arrival = c.last_read_ms.load(Ordering::Acquire) + ARRIVAL_GRACE.as_millis() as u64;
        let deadline = idle_deadline.max(arrival);
        if now >= deadline {
            Err(Closed::Idle)
        } else {
            Ok(deadline)
        }
    }

    /// A connection's handshake and idle timeouts.
    fn timeouts(&self, c: &Connection) -> (Duration, Duration) {
        if c.headroom {
            (
                self.handshake_timeout.min(HEADROOM_TIMEOUT),
                self.idle_timeout.min(HEADROOM_TIMEOUT),
            )
        } else {
            (self.handshake_timeout, self.idle_timeout)
        }
    }

    fn closed(&self, why: Closed) {
        let counter = match why {
            Closed::Idle => &self.stats.closed_idle,
            Closed::Handshake => &self.stats.closed_handshake,
            Closed::Evicted => &self.stats.evicted,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes the edge's families in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let s = &self.stats;
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP exportctl_connections_open Connections open on the gRPC port.\n\
             # TYPE exportctl_connections_open gauge\n\
             exportctl_connections_open {}\n\
             # HELP exportctl_connections_max Most connections admitted at once (--max-connections within the fd budget).\n\
             # TYPE exportctl_connections_max gauge\n\
             exportctl_connections_max {}\n\
             # HELP exportctl_connections_total Connections accepted on the gRPC port, by result.\n\
             # TYPE exportctl_connections_total counter\n\
             exportctl_connections_total{{result=\"admitted\"}} {}\n\
             exportctl_connections_total{{result=\"refused\"}} {}\n\
             exportctl_connections_total{{result=\"accept_error\"}} {}\n\
             # HELP exportctl_connections_closed_total Connections the server closed, by reason.\n\
             # TYPE exportctl_connections_closed_total counter\n\
             exportctl_connections_closed_total{{reason=\"idle\"}} {}\n\
             exportctl_connections_closed_total{{reason=\"handshake\"}} {}\n\
             exportctl_connections_closed_total{{reason=\"evicted\"}} {}",
            self.open(),
            self.max,
            load(&s.accepted),
            load(&s.refused),
            load(&s.accept_errors),
            load(&s.closed_idle),
            load(&s.closed_handshake),
            load(&s.evicted),
        );
    }
}

/// The connection budget that fits the file-descriptor limit: raises the
/// soft limit to the hard one, then keeps [`FD_RESERVE`] descriptors out of
/// `wanted`. Returns the budget and the soft limit in force.
pub fn fd_budget(wanted: usize) -> (usize, Option<u64>) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = rustix::process::Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if setrlimit(Resource::Nofile, raised).is_ok() {
            limit = getrlimit(Resource::Nofile);
        }
    }
    match limit.current {
        Some(soft) => {
            let room = soft.saturating_sub(FD_RESERVE).max(1);
            (
                wanted.min(usize::try_from(room).unwrap_or(usize::MAX)),
                Some(soft),
            )
        }
        None => (wanted, None),
    }
}

/// Accepted TCP connections, admitted by [`Connections`], each with its
/// writes coalesced (unless coalescing is off) and its timers.
#[derive(Debug)]
pub struct EdgeIncoming {
    incoming: TcpIncoming,
    connections: Arc<Connections>,
    coalesce: bool,
    /// Refusals are answered with an HTTP/2 GOAWAY (not under TLS).
    plaintext: bool,
    backoff: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl EdgeIncoming {
    pub fn new(
        incoming: TcpIncoming,
        connections: Arc<Connections>,
        coalesce: bool,
        plaintext: bool,
    ) -> Self {
        Self {
            incoming,
            connections,
            coalesce,
            plaintext,
            backoff: None,
        }
    }
}

fn out_of_descriptors(e: &io::Error) -> bool {
    // EMFILE (process limit) and ENFILE (system limit).
    matches!(e.raw_os_error(), Some(24 | 23))
}

impl tokio_stream::Stream for EdgeIncoming {
    type Item = io::Result<EdgeIo<CoalescedWrites<tokio::net::TcpStream>>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if let Some(pause) = this.backoff.as_mut() {
                ready!(pause.as_mut().poll(cx));
                this.backoff = None;
            }
            let tcp = match ready!(Pin::new(&mut this.incoming).poll_next(cx)) {
                None => return Poll::Ready(None),
                Some(Err(e)) => {
                    this.connections
                        .stats
                        .accept_errors
                        .fetch_add(1, Ordering::Relaxed);
                    if out_of_descriptors(&e) {
                        this.connections.evict_one();
                        this.backoff = Some(Box::pin(tokio::time::sleep(ACCEPT_BACKOFF)));
                    }
                    return Poll::Ready(Some(Err(e)));
                }
                Some(Ok(tcp)) => tcp,
            };
            let Ok(peer) = tcp.peer_addr() else {
                continue;
            };
            match this.connections.admit(peer) {
                Some(connection) => {
                    let deadline =
                        tokio::time::Instant::now() + this.connections.timeouts(&connection).0;
                    return Poll::Ready(Some(Ok(EdgeIo {
                        inner: CoalescedWrites::with_coalescing(tcp, this.coalesce),
                        connection,
                        connections: this.connections.clone(),
                        peer,
                        timer: Box::pin(tokio::time::sleep_until(deadline)),
                    })));
                }
                None => {
                    if this.plaintext {
                        // Best effort: the socket's buffer is empty, so this fits.
                        let _ = tcp.try_write(REFUSAL);
                    }
                    tracing::debug!(%peer, "connection refused: every admitted connection is busy");
                }
            }
        }
    }
}

/// An admitted connection's I/O: reads end (the server closes it) when its
/// handshake or idle timer runs out, or when it is evicted.
#[derive(Debug)]
pub struct EdgeIo<T> {
    inner: T,
    connection: Arc<Connection>,
    connections: Arc<Connections>,
    peer: SocketAddr,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl<T> Drop for EdgeIo<T> {
    fn drop(&mut self) {
        self.connections.forget(self.peer, &self.connection);
    }
}

impl<T: Connected> Connected for EdgeIo<T> {
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EdgeIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let c = &this.connection;
        if c.closing.load(Ordering::Acquire) {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        if let Poll::Ready(r) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            if buf.filled().len() > before {
                c.seen_bytes.store(true, Ordering::Release);
                c.last_read_ms.store(ms_since(c.epoch), Ordering::Release);
            }
            return Poll::Ready(r);
        }
        *c.waker.lock().unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        loop {
            if this.timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            match this.connections.check(c) {
                Ok(next_ms) => {
                    let at = this.connections.epoch + Duration::from_millis(next_ms);
                    this.timer
                        .as_mut()
                        .reset(tokio::time::Instant::from_std(at));
                }
                Err(why) => {
                    if why != Closed::Evicted {
                        this.connections.closed(why);
                    }
                    tracing::debug!(peer = %this.peer, reason = ?why, "closing connection");
                    c.closing.store(true, Ordering::Release);
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EdgeIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_is_a_settings_frame_then_a_goaway_enhance_your_calm() {
        assert_eq!(&REFUSAL[..9], &[0, 0, 0, 4, 0, 0, 0, 0, 0]);
        let goaway = &REFUSAL[9..];
        let len = u32::from_be_bytes([0, goaway[0], goaway[1], goaway[2]]) as usize;
        assert_eq!(len, goaway.len() - 9);
        assert_eq!(goaway[3], 7, "frame type GOAWAY");
        assert_eq!(&goaway[9..13], &[0, 0, 0, 0], "last stream id 0");
        assert_eq!(&goaway[13..17], &[0, 0, 0, 0xb], "ENHANCE_YOUR_CALM");
        assert!(goaway[17..].starts_with(b"connection limit reached"));
    }

    #[test]
    fn at_the_cap_the_idlest_connection_makes_room_and_a_busy_server_refuses() {
        let mut edge = Connections::new(2, Duration::from_secs(10), Duration::from_secs(30));
        // Ten seconds into the server's life, so that reads at 0 ms are past the arrival grace.
        edge.epoch -= Duration::from_secs(10);
        let a: SocketAddr = "127.0.0.1:1001".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:1002".parse().unwrap();
        let c: SocketAddr = "127.0.0.1:1003".parse().unwrap();
        let d: SocketAddr = "127.0.0.1:1004".parse().unwrap();
        let first = edge.admit(a).unwrap();
        let second = edge.admit(b).unwrap();
        // `second` has spoken (long ago) and has a call in flight; `first` never spoke.
        second.seen_bytes.store(true, Ordering::Relaxed);
        second.last_read_ms.store(0, Ordering::Relaxed);
        let (busy, _) = second.call_started(false);
        let third = edge.admit(c).expect("the idle connection makes room");
        assert!(
            first.closing.load(Ordering::Relaxed),
            "the idle one is closed"
        );
        assert!(!second.closing.load(Ordering::Relaxed));
        assert_eq!(edge.open(), 2);
        // Both open connections busy: the next ones get the health-check
        // headroom, which is never evicted, and then are refused.
        let (_also_busy, _) = third.call_started(true);
        for i in 0..HEALTH_HEADROOM {
            let peer = SocketAddr::from(([127, 0, 0, 2], 3000 + i as u16));
            let c = edge.admit(peer).expect("headroom");
            assert!(c.is_headroom());
            assert_eq!(
                edge.timeouts(&c),
                (HEADROOM_TIMEOUT, HEADROOM_TIMEOUT),
                "short-lived"
            );
        }
        assert!(edge.admit(d).is_none());
        assert_eq!(edge.stats.refused.load(Ordering::Relaxed), 1);
        // A call ending makes its connection evictable again, once its last
        // read is older than the arrival grace.
        drop(busy);
        second
            .last_read_ms
            .store(ms_since(edge.epoch), Ordering::Relaxed);
        assert!(
            edge.admit(d).is_none(),
            "a connection that has just read may have a call on its way: not evicted"
        );
        second.last_read_ms.store(0, Ordering::Relaxed);
        let e = edge.admit(d).unwrap();
        assert!(!e.is_headroom());
        assert!(second.closing.load(Ordering::Relaxed));
    }

    #[test]
    fn timers_close_silent_and_idle_connections_but_not_busy_ones() {
        let edge = Connections::new(8, Duration::ZERO, Duration::ZERO);
        let c = edge.admit("127.0.0.1:2001".parse().unwrap()).unwrap();
        let later = 60_000;
        assert_eq!(edge.check_at(&c, later), Err(Closed::Handshake));
        c.seen_bytes.store(true, Ordering::Relaxed);
        c.idle_since_ms.store(0, Ordering::Relaxed);
        // Just read: a call may be arriving.
        c.last_read_ms.store(later - 10, Ordering::Relaxed);
        assert_eq!(edge.check_at(&c, later), Ok(later - 10 + 1000));
        c.last_read_ms.store(0, Ordering::Relaxed);
        assert_eq!(edge.check_at(&c, later), Err(Closed::Idle));
        let (call, streams) = c.call_started(true);
        assert_eq!(streams, 1);
        assert!(
            edge.check_at(&c, later).is_ok(),
            "a call in flight keeps it open"
        );
        drop(call);
        assert_eq!(c.calls(), 0);
        c.close();
        assert_eq!(edge.check_at(&c, later), Err(Closed::Evicted));
    }
}
