//! Load shedding: at most `max_in_flight` calls are served at once per
//! server; a call beyond that is answered `RESOURCE_EXHAUSTED` at once
//! instead of waiting in an unbounded queue, so the latency of admitted calls
//! stays bounded whatever the offered load. Health checks are always served.
//! A call holds its slot until its response (for a stream, the whole stream)
//! has been sent or dropped.
//!
//! Streaming calls (client or server streaming, by the served services'
//! descriptors, and reflection) also take one of `max_streams` stream slots,
//! fewer than `max_in_flight`, so that unary calls always keep slots however
//! many streams are held open; and one connection may hold at most
//! `max_streams_per_connection` of them. Every call is counted on its
//! connection ([`crate::edge`]), which is idle only while it has none.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_stream::{Stream, StreamExt};

use crate::edge::{ConnectionCall, Connections};

/// The paths (`/package.Service/Method`) of streaming methods.
#[derive(Debug, Clone, Default)]
pub struct StreamingMethods(HashSet<String>);

impl StreamingMethods {
    /// The streaming methods of the services in these encoded
    /// `FileDescriptorSet`s, and of health checking and server reflection.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> Self {
        use crate::methods::{declared, standard_sets};
        let mut methods = declared(sets, |_| true);
        methods.extend(declared(&standard_sets(), |_| true));
        Self(
            methods
                .iter()
                .filter(|m| m.streaming)
                .map(crate::methods::DeclaredMethod::path)
                .collect(),
        )
    }

    pub fn contains(&self, path: &str) -> bool {
        self.0.contains(path)
    }
}

/// How many calls and streams a server admits at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// Calls in flight on the whole server (streams included).
    pub max_in_flight: usize,
    /// Streams in flight on the whole server: at most `max_in_flight - 1`,
    /// so that unary calls always have a slot.
    pub max_streams: usize,
    /// Streams in flight on one connection.
    pub max_streams_per_connection: usize,
}

impl Admission {
    /// `max_streams` defaults to half of `max_in_flight`; it is kept below
    /// `max_in_flight` either way (with `max_in_flight` 1, no stream is admitted).
    pub fn new(
        max_in_flight: usize,
        max_streams: Option<usize>,
        max_streams_per_connection: usize,
    ) -> Self {
        let max_in_flight = max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            max_in_flight,
            max_streams: max_streams
                .unwrap_or(max_in_flight / 2)
                .min(max_in_flight - 1),
            max_streams_per_connection,
        }
    }
}

/// Tower layer limiting the calls in flight.
#[derive(Debug, Clone)]
pub struct LoadShedLayer {
    slots: Arc<Semaphore>,
    stream_slots: Arc<Semaphore>,
    admission: Admission,
    streaming: Arc<StreamingMethods>,
    connections: Option<Arc<Connections>>,
}

impl LoadShedLayer {
    /// A layer admitting `max_in_flight` calls, of which at most half are streams.
    pub fn new(max_in_flight: usize) -> Self {
        Self::with(
            Admission::new(max_in_flight, None, usize::MAX),
            StreamingMethods::default(),
            None,
        )
    }

    /// A layer with these bounds, knowing which methods stream and, with
    /// `connections`, counting calls per connection.
    pub fn with(
        admission: Admission,
        streaming: StreamingMethods,
        connections: Option<Arc<Connections>>,
    ) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(admission.max_in_flight)),
            stream_slots: Arc::new(Semaphore::new(admission.max_streams)),
            admission,
            streaming: Arc::new(streaming),
            connections,
        }
    }
}

impl<S> tower_layer::Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadShed<S> {
    inner: S,
    layer: LoadShedLayer,
}

/// What a call holds until its response ends: its slots and its place on its connection.
#[derive(Debug, Default)]
pub struct CallSlots {
    slot: Option<OwnedSemaphorePermit>,
    stream_slot: Option<OwnedSemaphorePermit>,
    connection: Option<ConnectionCall>,
}

pin_project_lite::pin_project! {
    /// A response body that holds its call's slot until it ends or is dropped.
    pub struct SlotBody<B> {
        #[pin]
        inner: B,
        slots: Option<CallSlots>,
    }
}

impl<B> Body for SlotBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = this.inner.poll_frame(cx);
        if let Poll::Ready(None) = frame {
            this.slots.take();
        }
        frame
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for LoadShed<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<SlotBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let path = req.uri().path();
        // Only Check is exempt: a health Watch never ends, so it is a stream like any other.
        let health = path == crate::edge::HEALTH_CHECK;
        let stream = !health && self.layer.streaming.contains(path);
        let mut slots = CallSlots::default();
        if let Err(message) = self.layer.admit(&req, health, stream, &mut slots) {
            let response = tonic::Status::resource_exhausted(message).into_http::<ResBody>();
            return Box::pin(std::future::ready(Ok(
                response.map(|inner| SlotBody { inner, slots: None })
            )));
        }
        let future = self.inner.call(req);
        Box::pin(async move {
            let response = future.await?;
            Ok(response.map(|inner| SlotBody {
                inner,
                slots: Some(slots),
            }))
        })
    }
}

impl LoadShedLayer {
    /// Takes what a call needs into `slots`, or says why it is refused.
    fn admit<B>(
        &self,
        req: &http::Request<B>,
        health: bool,
        stream: bool,
        slots: &mut CallSlots,
    ) -> Result<(), String> {
        let a = &self.admission;
        if let Some(connection) = self
            .connections
            .as_ref()
            .and_then(|c| c.of(req.extensions()))
        {
            let (call, streams) = connection.call_started(stream);
            slots.connection = Some(call);
            if connection.is_headroom() && req.uri().path() != crate::edge::HEALTH_CHECK {
                return Err(
                    "connection limit reached: this connection is over --max-connections and serves only health checks; retry with backoff"
                        .into(),
                );
            }
            if stream && streams > a.max_streams_per_connection {
                return Err(format!(
                    "too many streams on this connection: at most {} at once; close one or open another connection",
                    a.max_streams_per_connection
                ));
            }
        }
        if health {
            return Ok(());
        }
        if stream {
            slots.stream_slot = Some(self.stream_slots.clone().try_acquire_owned().map_err(|_| {
                format!(
                    "server overloaded: {} streams already open (streams may hold at most {} of the {} call slots); retry with backoff",
                    a.max_streams, a.max_streams, a.max_in_flight
                )
            })?);
        }
        slots.slot = Some(self.slots.clone().try_acquire_owned().map_err(|_| {
            format!(
                "server overloaded: {} calls already in flight; retry with backoff",
                a.max_in_flight
            )
        })?);
        Ok(())
    }
}

/// The next item of an inbound stream, or `DEADLINE_EXCEEDED` when the
/// client sends none within `idle`: a stream that goes quiet gives its slot back.
pub async fn next_within<S, T>(stream: &mut S, idle: Duration) -> Option<Result<T, tonic::Status>>
where
    S: Stream<Item = Result<T, tonic::Status>> + Unpin,
{
    match tokio::time::timeout(idle, stream.next()).await {
        Ok(item) => item,
        Err(_) => Some(Err(tonic::Status::deadline_exceeded(format!(
            "no message on this stream for {} s (--stream-idle-timeout): stream closed",
            idle.as_secs_f64()
        )))),
    }
}
