//! The codec of the exportctl services and clients: prost's, except that a
//! request message that does not decode is the caller's error,
//! INVALID_ARGUMENT, where prost's codec answers INTERNAL for it.

use tonic::Status;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

/// Prost's codec with request decode errors as INVALID_ARGUMENT (set for
/// every generated service and client by `build.rs`).
#[derive(Debug, Clone)]
pub struct StrictCodec<T, U> {
    inner: ProstCodec<T, U>,
}

impl<T, U> Default for StrictCodec<T, U> {
    fn default() -> Self {
        Self {
            inner: ProstCodec::default(),
        }
    }
}

impl<T, U> Codec for StrictCodec<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = StrictDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        self.inner.encoder()
    }

    fn decoder(&mut self) -> Self::Decoder {
        StrictDecoder(self.inner.decoder())
    }
}

/// Decodes `U`; see [`StrictCodec`].
#[derive(Debug, Clone)]
pub struct StrictDecoder<U>(ProstDecoder<U>);

/// Whether `U` is a request message: buf's STANDARD lint (RPC_REQUEST_STANDARD_NAME,
/// `scripts/buf-lint.sh`) names every RPC's input `<Rpc>Request` and no
/// output so. A server decodes requests, a client responses: a response that
/// does not decode stays INTERNAL, as gRPC's status-code guide asks.
fn is_request<U>() -> bool {
    std::any::type_name::<U>().ends_with("Request")
}

impl<U: prost::Message + Default> Decoder for StrictDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        self.0.decode(buf).map_err(|status| {
            if is_request::<U>() {
                Status::invalid_argument(format!(
                    "the request is not a valid protobuf message: {}",
                    status.message()
                ))
            } else {
                status
            }
        })
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_told_apart_from_responses() {
        assert!(is_request::<crate::licensing::DecideRequest>());
        assert!(is_request::<crate::classifier::ClassifyRequest>());
        assert!(!is_request::<crate::licensing::DecideResponse>());
        assert!(!is_request::<crate::classifier::ClassifyResponse>());
    }
}
