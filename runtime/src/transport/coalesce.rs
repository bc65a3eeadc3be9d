//! [`CoalescedWrites`]: connection I/O whose writes wait for h2's flush,
//! which is put off once so that the calls ready to answer share one write;
//! [`crate::edge::EdgeIncoming`] and [`CoalescingConnector`] give it to
//! accepted and client connections. See the [module above](super) for the h2 behaviour it
//! depends on.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes held before a write is passed on without waiting for a flush.
const GATHER_LIMIT: usize = 64 * 1024;
/// Capacity a connection keeps between bursts; a larger buffer is released
/// once drained, so idle connections do not pin the peak.
const KEPT_CAPACITY: usize = 16 * 1024;

/// A stream whose writes are held until the next flush (or until
/// [`GATHER_LIMIT`] bytes are pending) and then written at once; or, with
/// coalescing off, the stream as it is.
#[derive(Debug)]
pub struct CoalescedWrites<T> {
    inner: T,
    pending: Vec<u8>,
    /// How much of `pending` the socket has taken.
    sent: usize,
    /// A flush was put off once, to let the other ready tasks add to it.
    deferred: bool,
    /// Off: every write, flush and vectored write goes straight to `inner`.
    coalesce: bool,
}

impl<T> CoalescedWrites<T> {
    /// `inner` with its writes coalesced.
    pub fn new(inner: T) -> Self {
        Self::with_coalescing(inner, true)
    }

    /// `inner` with its writes coalesced, or passed straight through when
    /// `coalesce` is false (`--no-write-coalescing`).
    pub fn with_coalescing(inner: T, coalesce: bool) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            sent: 0,
            deferred: false,
            coalesce,
        }
    }
}

impl<T: AsyncWrite + Unpin> CoalescedWrites<T> {
    /// Writes out everything pending.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.pending.clear();
        self.sent = 0;
        if self.pending.capacity() > KEPT_CAPACITY {
            self.pending.shrink_to(KEPT_CAPACITY);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for CoalescedWrites<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CoalescedWrites<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.coalesce {
            return Pin::new(&mut this.inner).poll_write(cx, buf);
        }
        if this.pending.len() + buf.len() > GATHER_LIMIT {
            ready!(this.poll_drain(cx))?;
            if buf.len() >= GATHER_LIMIT {
                return Pin::new(&mut this.inner).poll_write(cx, buf);
            }
        }
        this.pending.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.coalesce {
            return Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs);
        }
        // What the trait does by default: the first non-empty slice.
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.coalesce && !this.pending.is_empty() && !this.deferred {
            // A task that wakes itself goes to the back of its worker's queue:
            // the calls ready now answer first, and one write carries them all.
            this.deferred = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        // Still put off while the socket is full: the next flush writes at once.
        ready!(this.poll_drain(cx))?;
        this.deferred = false;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        // Vectored writes make h2 queue frames of 256 bytes and more instead of copying them.
        !self.coalesce && self.inner.is_write_vectored()
    }
}

impl<T: tonic::transport::server::Connected> tonic::transport::server::Connected
    for CoalescedWrites<T>
{
    type ConnectInfo = T::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

/// Connects to gRPC servers over TCP (no delay) with [`CoalescedWrites`],
/// for `Endpoint::connect_with_connector`; TLS, when the endpoint has it,
/// is added on top by tonic.
#[derive(Debug, Clone)]
pub struct CoalescingConnector {
    http: hyper_util::client::legacy::connect::HttpConnector,
    coalesce: bool,
}

impl CoalescingConnector {
    /// A connector whose connections coalesce their writes, or are plain
    /// sockets when `coalesce` is false (`--no-write-coalescing`).
    pub fn new(coalesce: bool) -> Self {
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        Self { http, coalesce }
    }
}

impl Default for CoalescingConnector {
    fn default() -> Self {
        Self::new(true)
    }
}

type Connected = hyper_util::rt::TokioIo<CoalescedWrites<tokio::net::TcpStream>>;

impl tower_service::Service<http::Uri> for CoalescingConnector {
    type Response = Connected;
    type Error = Box<dyn std::error::Error + Send + Sync>;
    type Future = Pin<Box<dyn std::future::Future<Output = Result<Connected, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let connecting = self.http.call(uri);
        let coalesce = self.coalesce;
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            Ok(hyper_util::rt::TokioIo::new(
                CoalescedWrites::with_coalescing(tcp, coalesce),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn holds_writes_until_flush_then_sends_them_in_order() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut w = CoalescedWrites::new(a);
        w.write_all(b"frame one;").await.unwrap();
        w.write_all(b"frame two").await.unwrap();
        let mut probe = [0u8; 1];
        let early = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            b.read_exact(&mut probe),
        )
        .await;
        assert!(early.is_err(), "nothing may reach the peer before a flush");
        w.flush().await.unwrap();
        let mut got = vec![0u8; 19];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"frame one;frame two");
        assert!(!w.is_write_vectored());
    }

    #[tokio::test]
    async fn passes_on_writes_past_the_limit_without_a_flush() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut w = CoalescedWrites::new(a);
        let big = vec![7u8; GATHER_LIMIT + 10];
        w.write_all(b"head").await.unwrap();
        w.write_all(&big).await.unwrap();
        // The pending head went out before the large write, which went straight through.
        let mut got = vec![0u8; 4 + big.len()];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(&got[..4], b"head");
        assert!(got[4..].iter().all(|&x| x == 7));
        w.shutdown().await.unwrap();
    }

    struct CountingWaker(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for CountingWaker {
        fn wake(self: std::sync::Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn puts_a_flush_off_once_then_writes_everything_held() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut w = CoalescedWrites::new(a);
        let counter = std::sync::Arc::new(CountingWaker(Default::default()));
        let waker = std::task::Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(matches!(
            Pin::new(&mut w).poll_write(&mut cx, b"first"),
            Poll::Ready(Ok(5))
        ));
        // The first flush re-queues the task (it wakes itself) and sends nothing yet ...
        assert!(Pin::new(&mut w).poll_flush(&mut cx).is_pending());
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
        // ... so what other calls write before the task runs again goes out with it.
        assert!(matches!(
            Pin::new(&mut w).poll_write(&mut cx, b" second"),
            Poll::Ready(Ok(7))
        ));
        assert!(matches!(
            Pin::new(&mut w).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
        let mut got = vec![0u8; 12];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"first second");
        // Nothing held: a flush completes at once, and shutdown never waits.
        assert!(matches!(
            Pin::new(&mut w).poll_flush(&mut cx),
            Poll::Ready(Ok(()))
        ));
        assert!(matches!(
            Pin::new(&mut w).poll_write(&mut cx, b"!"),
            Poll::Ready(Ok(1))
        ));
        assert!(matches!(
            Pin::new(&mut w).poll_shutdown(&mut cx),
            Poll::Ready(Ok(()))
        ));
        let mut last = [0u8; 1];
        b.read_exact(&mut last).await.unwrap();
        assert_eq!(&last, b"!");
        assert_eq!(counter.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn keeps_a_bounded_buffer_after_a_burst() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let mut w = CoalescedWrites::new(a);
        w.write_all(&vec![1u8; GATHER_LIMIT - 1]).await.unwrap();
        w.flush().await.unwrap();
        assert!(w.pending.capacity() <= KEPT_CAPACITY);
        let mut got = vec![0u8; GATHER_LIMIT - 1];
        b.read_exact(&mut got).await.unwrap();
    }

    #[tokio::test]
    async fn passes_writes_straight_through_when_off() {
        let (a, mut b) = tokio::io::duplex(1 << 20);
        let inner_vectored = a.is_write_vectored();
        let mut w = CoalescedWrites::with_coalescing(a, false);
        w.write_all(b"no flush needed").await.unwrap();
        let mut got = vec![0u8; 15];
        b.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"no flush needed");
        assert!(w.pending.is_empty());
        assert_eq!(w.is_write_vectored(), inner_vectored);
        w.flush().await.unwrap();
        w.shutdown().await.unwrap();
    }
}
