//! The request mix, built from the acceptance scenario corpus
//! (tests/corpus/scenarios.yaml, parsed by `exportctl_tests::corpus`): real
//! shipments and the specs in them.

use anyhow::bail;
use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as pb;
use exportctl_tests::corpus;
use prost::Message;

/// What the workloads send.
pub struct Mix {
    /// Unary Classify requests (and the ClassifyStream items), cycled through.
    pub classify: Vec<cpb::ClassifyRequest>,
    /// Decide requests; the load tool gives each call a unique request id.
    pub decide: Vec<pb::DecideRequest>,
}

impl Mix {
    /// Mean encoded size of a Classify request: the Echo payload size.
    pub fn mean_classify_bytes(&self) -> usize {
        let total: usize = self.classify.iter().map(Message::encoded_len).sum();
        total / self.classify.len().max(1)
    }
}

/// The mix: every scenario's item classified in all regimes as of the
/// shipment date and as of today (a catalogue lookup), and every scenario as a
/// one-line Decide.
pub fn load() -> anyhow::Result<Mix> {
    let scenarios = corpus::load().map_err(anyhow::Error::msg)?;
    if scenarios.is_empty() {
        bail!("the scenario corpus is empty");
    }
    let mut classify = Vec::new();
    let mut decide = Vec::new();
    for s in &scenarios {
        let spec = cpb::ProductSpec {
            sku: format!("BENCH-{}", s.id),
            ..s.spec().map_err(anyhow::Error::msg)?
        };
        classify.push(cpb::ClassifyRequest {
            spec: Some(spec.clone()),
            as_of: s.date.clone(),
            regimes: Vec::new(),
        });
        classify.push(cpb::ClassifyRequest {
            spec: Some(spec.clone()),
            as_of: String::new(),
            regimes: Vec::new(),
        });
        decide.push(s.decide_request(spec).map_err(anyhow::Error::msg)?);
    }
    Ok(Mix { classify, decide })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_corpus_makes_a_mix() {
        let mix = load().unwrap();
        assert!(mix.classify.len() >= 40);
        assert_eq!(mix.classify.len(), 2 * mix.decide.len());
        assert!(mix.mean_classify_bytes() > 10);
        assert!(
            mix.decide
                .iter()
                .all(|d| !d.lines[0].origin_country.is_empty())
        );
    }
}
