//! The purpose of this module, checked end to end: concurrent unary calls
//! over one HTTP/2 connection leave the server in fewer socket writes than
//! there are calls. If an h2 upgrade changes the behaviour the module relies
//! on (see the module docs), this test fails instead of the coalescing
//! silently turning into extra copies.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use exportctl_proto::classifier as cpb;
use exportctl_proto::classifier::classifier_service_client::ClassifierServiceClient;
use exportctl_proto::classifier::classifier_service_server::{
    ClassifierService, ClassifierServiceServer,
};

use super::CoalescedWrites;
use crate::server::{Limits, standard_router};

/// Concurrent calls per burst.
const CALLS: usize = 64;
/// Bursts per measurement (the smallest burst counts).
const BURSTS: usize = 5;

/// A socket that counts the writes that reach it.
struct Counting {
    inner: tokio::net::TcpStream,
    writes: Arc<AtomicUsize>,
}

impl Counting {
    fn count(&self, written: &Poll<io::Result<usize>>) {
        if matches!(written, Poll::Ready(Ok(n)) if *n > 0) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl AsyncRead for Counting {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.count(&written);
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.count(&written);
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

impl tonic::transport::server::Connected for Counting {
    type ConnectInfo = <tokio::net::TcpStream as tonic::transport::server::Connected>::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}

/// Echo is the one method served; the classifier's own service is not in
/// this crate.
struct EchoOnly;

#[tonic::async_trait]
impl ClassifierService for EchoOnly {
    async fn classify(
        &self,
        _: tonic::Request<cpb::ClassifyRequest>,
    ) -> Result<tonic::Response<cpb::ClassifyResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo only"))
    }
    type ClassifyStreamStream = tokio_stream::Empty<Result<cpb::ClassifyResponse, tonic::Status>>;
    async fn classify_stream(
        &self,
        _: tonic::Request<tonic::Streaming<cpb::ClassifyRequest>>,
    ) -> Result<tonic::Response<Self::ClassifyStreamStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo only"))
    }
    async fn get_entry(
        &self,
        _: tonic::Request<cpb::GetEntryRequest>,
    ) -> Result<tonic::Response<cpb::GetEntryResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo only"))
    }
    async fn list_entries(
        &self,
        _: tonic::Request<cpb::ListEntriesRequest>,
    ) -> Result<tonic::Response<cpb::ListEntriesResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo only"))
    }
    async fn describe_rules(
        &self,
        _: tonic::Request<cpb::DescribeRulesRequest>,
    ) -> Result<tonic::Response<cpb::DescribeRulesResponse>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo only"))
    }
    async fn echo(
        &self,
        request: tonic::Request<cpb::EchoRequest>,
    ) -> Result<tonic::Response<cpb::EchoResponse>, tonic::Status> {
        Ok(tonic::Response::new(cpb::EchoResponse {
            payload: request.into_inner().payload,
        }))
    }
}

/// Response payload sizes, in turn: one h2 copies only on a socket without
/// vectored writes (256..1,024 bytes, like most Classify responses), and one
/// it copies only once [`super::SmallFramesLayer`] has cut it up (1..4 KiB).
const PAYLOADS: [usize; 2] = [600, 2_000];

/// The fewest server socket writes one burst of [`CALLS`] concurrent Echo
/// calls over one connection took, with write coalescing on or off (the
/// router and the connection I/O as `BoundServer` builds them).
async fn fewest_writes_per_burst(write_coalescing: bool) -> usize {
    let limits = Limits {
        write_coalescing,
        ..Limits::default()
    };
    let keys = crate::auth::ApiKeys::new(Vec::new(), |_| None).unwrap();
    let (router, _health) =
        standard_router(limits, &[], Arc::default(), keys, None, None).expect("router");
    let router = router.add_service(ClassifierServiceServer::new(EchoOnly));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let writes = Arc::new(AtomicUsize::new(0));
    let counted = writes.clone();
    let incoming = accepted(listener, move |tcp| {
        CoalescedWrites::with_coalescing(
            Counting {
                inner: tcp,
                writes: counted.clone(),
            },
            limits.write_coalescing,
        )
    });
    let server = tokio::spawn(router.serve_with_incoming(incoming));

    // A plain client connection: only the server's writes are under test.
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let client = ClassifierServiceClient::new(channel);
    let echo = |mut client: ClassifierServiceClient<tonic::transport::Channel>, size: usize| async move {
        let payload = vec![7u8; size];
        let response = client
            .echo(cpb::EchoRequest {
                payload: payload.clone(),
            })
            .await
            .expect("echo")
            .into_inner();
        assert_eq!(response.payload, payload);
    };
    // Settle the connection (settings, window updates) before counting.
    echo(client.clone(), PAYLOADS[0]).await;
    let mut fewest = usize::MAX;
    for _ in 0..BURSTS {
        let before = writes.load(Ordering::SeqCst);
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..CALLS {
            calls.spawn(echo(client.clone(), PAYLOADS[i % PAYLOADS.len()]));
        }
        while let Some(done) = calls.join_next().await {
            done.unwrap();
        }
        fewest = fewest.min(writes.load(Ordering::SeqCst) - before);
    }
    server.abort();
    fewest
}

/// Accepted connections of `listener`, each wrapped by `wrap`.
fn accepted<T>(
    listener: tokio::net::TcpListener,
    wrap: impl Fn(tokio::net::TcpStream) -> T + Send + 'static,
) -> impl tokio_stream::Stream<Item = io::Result<T>> {
    use tokio_stream::StreamExt as _;
    tokio_stream::wrappers::TcpListenerStream::new(listener).map(move |accepted| {
        let tcp = accepted?;
        tcp.set_nodelay(true)?;
        Ok(wrap(tcp))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn coalescing_gives_concurrent_calls_fewer_writes() {
    let on = fewest_writes_per_burst(true).await;
    let off = fewest_writes_per_burst(false).await;
    eprintln!("{CALLS} concurrent calls: {on} server writes with coalescing, {off} without");
    assert!(
        on < CALLS,
        "with write coalescing, {CALLS} concurrent calls took {on} server writes: \
         coalescing no longer batches responses (did h2's write path change?)"
    );
    assert!(
        on * 2 <= off,
        "with write coalescing {on} server writes, without {off}: \
         coalescing no longer pays (did h2's write path change?)"
    );
}
