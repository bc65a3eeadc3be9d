//! Connection I/O that gives many calls' HTTP/2 frames one system call.
//!
//! Two things made every unary call cost a socket write of its own: h2
//! copies a DATA frame into its write buffer only below a threshold (256
//! bytes where the socket takes vectored writes, 1,024 otherwise) and flushes
//! before buffering anything after a larger one; and hyper answers each call
//! from its own task, whose response wakes the connection task, which then
//! flushes whatever is buffered. On loopback a write also runs the receiving
//! side's TCP processing, so writes were the largest cost of a call. Here:
//!
//! - [`CoalescedWrites`] reports no vectored writes (frames under 1,024 bytes
//!   are copied), holds what h2 writes until h2 flushes, and puts each flush
//!   off once by waking its own task, which tokio queues behind the tasks
//!   already ready: the calls ready to answer add their frames first and
//!   leave in one write;
//! - [`SmallFramesLayer`] cuts response chunks of 1 to 4 KiB into frames
//!   under 1 KiB, so that they are copied and batched too;
//! - [`CoalescingConnector`] gives client connections the same I/O.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes held before a write is passed on without waiting for a flush.
const GATHER_LIMIT: usize = 64 * 1024;
/// Capacity a connection keeps between bursts; a larger buffer is released
/// once drained, so idle connections do not pin the peak.
const KEPT_CAPACITY: usize = 16 * 1024;

/// A stream whose writes are held until the next flush (or until
/// [`GATHER_LIMIT`] bytes are pending) and then written at once.
#[derive(Debug)]
pub struct CoalescedWrites<T> {
    inner: T,
    pending: Vec<u8>,
    /// How much of `pending` the socket has taken.
    sent: usize,
    /// A flush was put off once, to let the other ready tasks add to it.
    deferred: bool,
}

impl<T> CoalescedWrites<T> {
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            pending: Vec::new(),
            sent: 0,
            deferred: false,
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
        if this.pending.len() + buf.len() > GATHER_LIMIT {
            ready!(this.poll_drain(cx))?;
            if buf.len() >= GATHER_LIMIT {
                return Pin::new(&mut this.inner).poll_write(cx, buf);
            }
        }
        this.pending.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.pending.is_empty() && !this.deferred {
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
        false
    }
}

/// Accepted connections, each with its writes coalesced.
#[derive(Debug)]
pub struct CoalescedIncoming(pub tonic::transport::server::TcpIncoming);

impl tokio_stream::Stream for CoalescedIncoming {
    type Item = io::Result<CoalescedWrites<tokio::net::TcpStream>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|accepted| accepted.map(|r| r.map(CoalescedWrites::new)))
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
}

impl Default for CoalescingConnector {
    fn default() -> Self {
        let mut http = hyper_util::client::legacy::connect::HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        Self { http }
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
        Box::pin(async move {
            let tcp = connecting.await?.into_inner();
            Ok(hyper_util::rt::TokioIo::new(CoalescedWrites::new(tcp)))
        })
    }
}

/// Largest DATA frame payload h2 copies into its buffer on a connection
/// without vectored writes (it queues frames of 1,024 bytes and more).
const COPIED_FRAME: usize = 1023;
/// Chunks up to this size are split into copied frames; a larger one is
/// written from its own buffer, which costs one write for many kilobytes.
const SPLIT_UP_TO: usize = 4 * 1024;

/// Tower layer: response bodies whose chunks are split into frames h2 batches.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmallFramesLayer;

impl<S> tower_layer::Layer<S> for SmallFramesLayer {
    type Service = SmallFrames<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SmallFrames { inner }
    }
}

#[derive(Debug, Clone)]
pub struct SmallFrames<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for SmallFrames<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
{
    type Response = http::Response<SmallFramesBody<ResBody>>;
    type Error = S::Error;
    type Future = SmallFramesFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        SmallFramesFuture {
            inner: self.inner.call(req),
        }
    }
}

pin_project_lite::pin_project! {
    pub struct SmallFramesFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F, B, E> std::future::Future for SmallFramesFuture<F>
where
    F: std::future::Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<SmallFramesBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let response = ready!(self.project().inner.poll(cx))?;
        Poll::Ready(Ok(
            response.map(|inner| SmallFramesBody { inner, rest: None })
        ))
    }
}

pin_project_lite::pin_project! {
    /// A body whose data chunks of up to [`SPLIT_UP_TO`] bytes come out in
    /// pieces of at most [`COPIED_FRAME`] bytes (each its own DATA frame).
    pub struct SmallFramesBody<B> {
        #[pin]
        inner: B,
        rest: Option<Bytes>,
    }
}

impl<B: Body<Data = Bytes>> Body for SmallFramesBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if let Some(rest) = this.rest {
            let piece = rest.split_to(rest.len().min(COPIED_FRAME));
            if rest.is_empty() {
                *this.rest = None;
            }
            return Poll::Ready(Some(Ok(Frame::data(piece))));
        }
        let frame = match ready!(this.inner.poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            other => return Poll::Ready(other),
        };
        match frame.into_data() {
            Ok(mut data) if data.len() > COPIED_FRAME && data.len() <= SPLIT_UP_TO => {
                let piece = data.split_to(COPIED_FRAME);
                *this.rest = Some(data);
                Poll::Ready(Some(Ok(Frame::data(piece))))
            }
            Ok(data) => Poll::Ready(Some(Ok(Frame::data(data)))),
            Err(frame) => Poll::Ready(Some(Ok(frame))),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.inner.size_hint();
        let held = self.rest.as_ref().map_or(0, |r| r.len() as u64);
        hint.set_lower(hint.lower() + held);
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + held);
        }
        hint
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

    /// A [`SmallFramesBody`] over a body of these data chunks and then trailers.
    fn split_body(
        chunks: Vec<Vec<u8>>,
    ) -> SmallFramesBody<impl Body<Data = Bytes, Error = std::convert::Infallible>> {
        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = chunks
            .into_iter()
            .map(|c| Ok(Frame::data(Bytes::from(c))))
            .chain(std::iter::once(Ok(Frame::trailers(http::HeaderMap::new()))))
            .collect();
        SmallFramesBody {
            inner: http_body_util::StreamBody::new(tokio_stream::iter(frames)),
            rest: None,
        }
    }

    async fn frames_of(chunks: Vec<Vec<u8>>) -> (Vec<usize>, bool) {
        use http_body_util::BodyExt;
        let mut body = std::pin::pin!(split_body(chunks));
        let mut sizes = Vec::new();
        let mut trailers = false;
        while let Some(frame) = body.frame().await {
            let frame = frame.unwrap();
            if frame.is_trailers() {
                trailers = true;
            } else {
                sizes.push(frame.into_data().unwrap().len());
            }
        }
        (sizes, trailers)
    }

    #[tokio::test]
    async fn splits_mid_sized_chunks_into_copied_frames_in_order() {
        let (sizes, trailers) = frames_of(vec![vec![1; 100], vec![2; 2500], vec![3; 9000]]).await;
        assert_eq!(sizes, [100, 1023, 1023, 454, 9000]);
        assert!(trailers, "trailers pass through after the data");
        let (sizes, _) = frames_of(vec![vec![4; 1023], vec![5; 1024], vec![6; 4096]]).await;
        assert_eq!(sizes, [1023, 1023, 1, 1023, 1023, 1023, 1023, 4]);
    }

    #[tokio::test]
    async fn split_pieces_carry_the_bytes_unchanged() {
        use http_body_util::BodyExt;
        let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
        let collected = split_body(vec![payload.clone()])
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(collected.as_ref(), payload.as_slice());
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
}
