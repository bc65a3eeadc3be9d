//! The request mix, built from the acceptance scenario corpus
//! (tests/corpus/scenarios.yaml, parsed by `exportctl_tests::corpus`): real
//! shipments and the specs in them.

use anyhow::bail;
use exportctl_proto::classifier as cpb;
use exportctl_proto::licensing as pb;
use exportctl_screening::budget;
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
/// one-line Decide. Each Decide also names a sold-to party (an unlisted
/// company name, in the destination country), so that every decision screens
/// two parties, the end user and this one, against the loaded lists.
pub fn load() -> anyhow::Result<Mix> {
    let scenarios = corpus::load().map_err(anyhow::Error::msg)?;
    if scenarios.is_empty() {
        bail!("the scenario corpus is empty");
    }
    let mut classify = Vec::new();
    let mut decide = Vec::new();
    // A seed whose first 60 names hit nothing in the 2026-07-31 Consolidated
    // Screening List (other seeds give a near miss such as "Delta … Logistics
    // GmbH" ~ DELTA LOGISTICS B.V.), so the sold-to party is cleared.
    let mut rng = budget::Rng(0x50_1D70_BE50);
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
        let mut req = s.decide_request(spec).map_err(anyhow::Error::msg)?;
        req.parties.push(pb::Party {
            name: budget::unlisted(&mut rng),
            country: req.destination_country.clone(),
            role: "sold_to".into(),
            ..Default::default()
        });
        decide.push(req);
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
        assert!(mix.decide.iter().all(|d| d.parties.len() == 1
            && d.parties[0].role == "sold_to"
            && !d.parties[0].name.is_empty()));
    }
}
