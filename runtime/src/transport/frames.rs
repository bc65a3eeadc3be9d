//! [`SmallFramesLayer`]: response chunks of 1 to 4 KiB cut into DATA frames
//! under 1 KiB, the largest h2 copies into its write buffer on a connection
//! without vectored writes, so that they are batched with other calls'
//! frames instead of each forcing a write. See the [module above](super).

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};

/// Largest DATA frame payload h2 copies into its buffer on a connection
/// without vectored writes (it queues frames of 1,024 bytes and more).
const COPIED_FRAME: usize = 1023;
/// Chunks up to this size are split into copied frames; a larger one is
/// written from its own buffer, which costs one write for many kilobytes.
const SPLIT_UP_TO: usize = 4 * 1024;

/// Tower layer: response bodies whose chunks are split into frames h2
/// batches; or, when off, left as they are.
#[derive(Debug, Clone, Copy)]
pub struct SmallFramesLayer {
    /// Chunks up to this size are split; 0 = none (the layer is off).
    split_up_to: usize,
}

impl SmallFramesLayer {
    /// The layer, splitting chunks when `on` and passing bodies through
    /// unchanged when not (`--no-write-coalescing`).
    pub fn new(on: bool) -> Self {
        Self {
            split_up_to: if on { SPLIT_UP_TO } else { 0 },
        }
    }
}

impl Default for SmallFramesLayer {
    fn default() -> Self {
        Self::new(true)
    }
}

impl<S> tower_layer::Layer<S> for SmallFramesLayer {
    type Service = SmallFrames<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SmallFrames {
            inner,
            split_up_to: self.split_up_to,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmallFrames<S> {
    inner: S,
    split_up_to: usize,
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
            split_up_to: self.split_up_to,
        }
    }
}

pin_project_lite::pin_project! {
    pub struct SmallFramesFuture<F> {
        #[pin]
        inner: F,
        split_up_to: usize,
    }
}

impl<F, B, E> std::future::Future for SmallFramesFuture<F>
where
    F: std::future::Future<Output = Result<http::Response<B>, E>>,
{
    type Output = Result<http::Response<SmallFramesBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let split_up_to = *this.split_up_to;
        let response = ready!(this.inner.poll(cx))?;
        Poll::Ready(Ok(response.map(|inner| SmallFramesBody {
            inner,
            rest: None,
            split_up_to,
        })))
    }
}

pin_project_lite::pin_project! {
    /// A body whose data chunks of up to [`SPLIT_UP_TO`] bytes come out in
    /// pieces of at most [`COPIED_FRAME`] bytes (each its own DATA frame);
    /// with the layer off, the body as it is.
    pub struct SmallFramesBody<B> {
        #[pin]
        inner: B,
        rest: Option<Bytes>,
        split_up_to: usize,
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
            Ok(mut data) if data.len() > COPIED_FRAME && data.len() <= *this.split_up_to => {
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

    /// A [`SmallFramesBody`] over a body of these data chunks and then trailers.
    fn split_body(
        chunks: Vec<Vec<u8>>,
        on: bool,
    ) -> SmallFramesBody<impl Body<Data = Bytes, Error = std::convert::Infallible>> {
        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = chunks
            .into_iter()
            .map(|c| Ok(Frame::data(Bytes::from(c))))
            .chain(std::iter::once(Ok(Frame::trailers(http::HeaderMap::new()))))
            .collect();
        SmallFramesBody {
            inner: http_body_util::StreamBody::new(tokio_stream::iter(frames)),
            rest: None,
            split_up_to: SmallFramesLayer::new(on).split_up_to,
        }
    }

    async fn frames_of(chunks: Vec<Vec<u8>>) -> (Vec<usize>, bool) {
        frames_of_with(chunks, true).await
    }

    async fn frames_of_with(chunks: Vec<Vec<u8>>, on: bool) -> (Vec<usize>, bool) {
        use http_body_util::BodyExt;
        let mut body = std::pin::pin!(split_body(chunks, on));
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
        let collected = split_body(vec![payload.clone()], true)
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(collected.as_ref(), payload.as_slice());
    }

    #[tokio::test]
    async fn leaves_chunks_whole_when_off() {
        let (sizes, trailers) =
            frames_of_with(vec![vec![1; 100], vec![2; 2500], vec![3; 9000]], false).await;
        assert_eq!(sizes, [100, 2500, 9000]);
        assert!(trailers);
    }
}
