//! Load shedding: at most `max_in_flight` calls are served at once per
//! server; a call beyond that is answered `RESOURCE_EXHAUSTED` at once
//! instead of waiting in an unbounded queue, so the latency of admitted calls
//! stays bounded whatever the offered load. Health checks are always served.
//! A call holds its slot until its response (for a stream, the whole stream)
//! has been sent or dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Tower layer limiting the calls in flight.
#[derive(Debug, Clone)]
pub struct LoadShedLayer {
    slots: Arc<Semaphore>,
    limit: usize,
}

impl LoadShedLayer {
    pub fn new(max_in_flight: usize) -> Self {
        let limit = max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }
}

impl<S> tower_layer::Layer<S> for LoadShedLayer {
    type Service = LoadShed<S>;
    fn layer(&self, inner: S) -> Self::Service {
        LoadShed {
            inner,
            slots: self.slots.clone(),
            limit: self.limit,
        }
    }
}

#[derive(Debug, Clone)]
pub struct LoadShed<S> {
    inner: S,
    slots: Arc<Semaphore>,
    limit: usize,
}

pin_project_lite::pin_project! {
    /// A response body that holds its call's slot until it ends or is dropped.
    pub struct SlotBody<B> {
        #[pin]
        inner: B,
        slot: Option<OwnedSemaphorePermit>,
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
            this.slot.take();
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
        let slot = if req.uri().path().starts_with("/grpc.health.") {
            None
        } else {
            match self.slots.clone().try_acquire_owned() {
                Ok(slot) => Some(slot),
                Err(_) => {
                    let status = tonic::Status::resource_exhausted(format!(
                        "server overloaded: {} calls already in flight; retry with backoff",
                        self.limit
                    ));
                    let response = status.into_http::<ResBody>();
                    return Box::pin(std::future::ready(Ok(
                        response.map(|inner| SlotBody { inner, slot: None })
                    )));
                }
            }
        };
        let future = self.inner.call(req);
        Box::pin(async move {
            let response = future.await?;
            Ok(response.map(|inner| SlotBody { inner, slot }))
        })
    }
}
