//! The methods a server declares, read from its services' encoded
//! `FileDescriptorSet`s: the metrics registry labels only these, and the
//! load-shedding layer knows from them which calls are streams.

/// One method of a served service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredMethod {
    /// Fully qualified service name (`exportctl.classifier.v1.ClassifierService`).
    pub service: String,
    pub method: String,
    /// Client or server streaming.
    pub streaming: bool,
}

impl DeclaredMethod {
    /// The HTTP/2 path of a call to this method.
    pub fn path(&self) -> String {
        format!("/{}/{}", self.service, self.method)
    }
}

/// Every method the descriptor sets declare, for services `keep` accepts.
pub fn declared(sets: &[&[u8]], keep: impl Fn(&str) -> bool) -> Vec<DeclaredMethod> {
    use prost::Message as _;
    let mut out = Vec::new();
    for set in sets {
        let Ok(set) = prost_types::FileDescriptorSet::decode(*set) else {
            continue;
        };
        for file in &set.file {
            for service in &file.service {
                let name = match file.package() {
                    "" => service.name().to_string(),
                    package => format!("{package}.{}", service.name()),
                };
                if keep(&name) {
                    out.extend(service.method.iter().map(|m| DeclaredMethod {
                        service: name.clone(),
                        method: m.name().to_string(),
                        streaming: m.client_streaming() || m.server_streaming(),
                    }));
                }
            }
        }
    }
    out
}

/// Descriptor sets of the services every exportctl server serves besides its
/// own: gRPC health checking and server reflection (v1 and v1alpha).
pub fn standard_sets() -> [&'static [u8]; 3] {
    [
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_told_apart_from_unary_calls() {
        let mut all = declared(&[exportctl_proto::FILE_DESCRIPTOR_SET], |_| true);
        all.extend(declared(&standard_sets(), |_| true));
        let streaming: Vec<String> = all
            .iter()
            .filter(|m| m.streaming)
            .map(DeclaredMethod::path)
            .collect();
        assert!(
            streaming
                .contains(&"/exportctl.classifier.v1.ClassifierService/ClassifyStream".to_string())
        );
        assert!(
            streaming
                .contains(&"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo".to_string())
        );
        assert!(streaming.contains(&"/grpc.health.v1.Health/Watch".to_string()));
        assert!(
            !streaming.contains(&"/exportctl.classifier.v1.ClassifierService/Classify".to_string())
        );
    }
}
