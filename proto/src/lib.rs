//! Generated exportctl contracts, one module per proto package.

#![allow(clippy::all, missing_docs)]

/// The `exportctl.*` packages.
pub mod exportctl {
    pub mod classifier {
        pub mod v1 {
            tonic::include_proto!("exportctl.classifier.v1");
        }
    }
    pub mod licensing {
        pub mod v1 {
            tonic::include_proto!("exportctl.licensing.v1");
        }
    }
}

pub mod codec;

pub use exportctl::classifier::v1 as classifier;
pub use exportctl::licensing::v1 as licensing;

/// Encoded `FileDescriptorSet` of the exportctl protos, for server reflection
/// (the google.rpc and grpc.health descriptors come from tonic-types and tonic-health).
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/exportctl_descriptor.bin"));
