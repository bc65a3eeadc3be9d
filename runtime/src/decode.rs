//! Undecodable requests to the services tonic brings (health checking and
//! reflection) answered INVALID_ARGUMENT, as the exportctl services answer
//! them (`exportctl_proto::codec::StrictCodec`): those services use prost's
//! codec, which calls a request that does not decode INTERNAL. The status is
//! rewritten where it travels — the headers of a trailers-only answer, or
//! the trailers of a stream.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// What prost's decode errors say first (`prost::DecodeError`'s display).
const DECODE_ERROR: &str = "failed to decode Protobuf message";

/// Whether a path belongs to a service whose codec is prost's own.
fn foreign(path: &str) -> bool {
    path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.")
}

/// Rewrites `grpc-status: 13` to 3 when the message (read by tonic, which
/// undoes its percent-encoding) is a decode error.
fn rewrite(map: &mut http::HeaderMap) {
    let decode_error = tonic::Status::from_header_map(map).is_some_and(|s| {
        s.code() == tonic::Code::Internal && s.message().starts_with(DECODE_ERROR)
    });
    if decode_error {
        map.insert("grpc-status", http::HeaderValue::from_static("3"));
    }
}

/// Tower layer applying the rewrite to health and reflection calls.
#[derive(Debug, Clone, Copy, Default)]
pub struct DecodeErrorsLayer;

impl<S> tower_layer::Layer<S> for DecodeErrorsLayer {
    type Service = DecodeErrors<S>;
    fn layer(&self, inner: S) -> Self::Service {
        DecodeErrors { inner }
    }
}

#[derive(Debug, Clone)]
pub struct DecodeErrors<S> {
    inner: S,
}

pin_project_lite::pin_project! {
    /// A response body whose trailers get the rewrite (when `active`).
    pub struct DecodeErrorsBody<B> {
        #[pin]
        inner: B,
        active: bool,
    }
}

impl<B: Default> Default for DecodeErrorsBody<B> {
    fn default() -> Self {
        Self {
            inner: B::default(),
            active: false,
        }
    }
}

impl<B: Body<Data = Bytes>> Body for DecodeErrorsBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        Poll::Ready(match frame {
            Some(Ok(frame)) if *this.active && frame.is_trailers() => {
                let mut trailers = frame.into_trailers().unwrap_or_default();
                rewrite(&mut trailers);
                Some(Ok(Frame::trailers(trailers)))
            }
            other => other,
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<S, ReqBody, ResBody> tower_service::Service<http::Request<ReqBody>> for DecodeErrors<S>
where
    S: tower_service::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>,
    S::Future: Send + 'static,
    ResBody: Body<Data = Bytes> + Send + 'static,
{
    type Response = http::Response<DecodeErrorsBody<ResBody>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<ReqBody>) -> Self::Future {
        let active = foreign(req.uri().path());
        let future = self.inner.call(req);
        Box::pin(async move {
            let mut response = future.await?;
            if active {
                rewrite(response.headers_mut());
            }
            Ok(response.map(|inner| DecodeErrorsBody { inner, active }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: &'static str, message: &'static str) -> http::HeaderMap {
        let mut m = http::HeaderMap::new();
        m.insert("grpc-status", http::HeaderValue::from_static(code));
        m.insert("grpc-message", http::HeaderValue::from_static(message));
        m
    }

    #[test]
    fn only_decode_errors_become_invalid_argument() {
        let mut decode = status(
            "13",
            "failed to decode Protobuf message: HealthCheckRequest.service: invalid wire type",
        );
        rewrite(&mut decode);
        assert_eq!(decode["grpc-status"], "3");
        let mut encoded = status(
            "13",
            "failed%20to%20decode%20Protobuf%20message:%20buffer underflow",
        );
        rewrite(&mut encoded);
        assert_eq!(encoded["grpc-status"], "3");
        let mut other = status("13", "something else broke");
        rewrite(&mut other);
        assert_eq!(other["grpc-status"], "13");
        let mut not_found = status("5", "failed to decode Protobuf message");
        rewrite(&mut not_found);
        assert_eq!(not_found["grpc-status"], "5");
        assert!(foreign("/grpc.health.v1.Health/Check"));
        assert!(foreign(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!foreign(
            "/exportctl.classifier.v1.ClassifierService/Classify"
        ));
    }
}
