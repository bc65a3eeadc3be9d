//! Compiles the exportctl protos with protox (no protoc needed) and generates
//! tonic/prost code plus an encoded descriptor set for server reflection.

use std::path::PathBuf;

use prost::Message;

const PROTOS: &[&str] = &[
    "exportctl/classifier/v1/classifier.proto",
    "exportctl/licensing/v1/licensing.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let files: Vec<PathBuf> = PROTOS.iter().map(|p| root.join(p)).collect();
    println!(
        "cargo:rerun-if-changed={}",
        root.join("exportctl").display()
    );
    println!("cargo:rerun-if-changed={}", root.join("google").display());
    let fds = protox::compile(&files, [&root])?;
    // Reflection serves the other google.rpc messages from tonic-types' descriptor set,
    // which names its file `status.proto`: keep our import path so references resolve.
    let mut own = fds.clone();
    own.file
        .retain(|f| f.package().starts_with("exportctl.") || f.name() == "google/rpc/status.proto");
    std::fs::write(out.join("exportctl_descriptor.bin"), own.encode_to_vec())?;
    tonic_prost_build::configure()
        .extern_path(".google.rpc", "::tonic_types::pb")
        // Undecodable requests are INVALID_ARGUMENT, not prost's INTERNAL.
        .codec_path("crate::codec::StrictCodec")
        .compile_fds(fds)?;
    Ok(())
}
