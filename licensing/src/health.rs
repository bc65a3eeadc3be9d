//! The licensing service's health follows its classifier's: without a
//! classifier nothing can be decided, so while the classifier does not answer
//! a probe, licensing reports NOT_SERVING (grpc.health.v1), and SERVING again
//! once it does.
//!
//! A companion task probes the classifier every interval (default 2 s), in
//! the background rather than per call: a grpc.health.v1 Check of the
//! classifier service over the classification port's own connection (the
//! in-process classifier is always up). Transitions are logged and counted;
//! `exportctl_classifier_up` is 1 while the classifier answers, 0 while not.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use exportctl_runtime::metrics::Registry;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;

use crate::classification::Classification;

/// Whether the classifier is up, as last probed; a probe's result becomes a
/// transition only when it changes that.
#[derive(Debug)]
pub struct ClassifierUp(AtomicBool);

impl Default for ClassifierUp {
    /// Up: the server reports SERVING when it binds, before the first probe.
    fn default() -> Self {
        Self(AtomicBool::new(true))
    }
}

impl ClassifierUp {
    pub fn is_up(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Records a probe's result; `Some(up)` when it changed the state.
    pub fn observe(&self, up: bool) -> Option<bool> {
        (self.0.swap(up, Ordering::Relaxed) != up).then_some(up)
    }

    /// `exportctl_classifier_up` in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP exportctl_classifier_up Whether the classifier answered the last health probe (1) or not (0)."
        );
        let _ = writeln!(out, "# TYPE exportctl_classifier_up gauge");
        let _ = writeln!(out, "exportctl_classifier_up {}", u8::from(self.is_up()));
    }
}

/// The probe loop: runs until the server stops (a companion task).
pub struct Monitor {
    pub classifier: Classification,
    pub reporter: HealthReporter,
    /// The service whose health follows the classifier's.
    pub service: &'static str,
    pub interval: Duration,
    pub state: Arc<ClassifierUp>,
    pub metrics: Arc<Registry>,
}

impl Monitor {
    /// How long one probe may take: the interval, at most 2 s.
    fn timeout(&self) -> Duration {
        self.interval.min(Duration::from_secs(2))
    }

    pub async fn run(self) {
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let probe = self.classifier.ping(self.timeout()).await;
            let Some(up) = self.state.observe(probe.is_ok()) else {
                continue;
            };
            let status = if up {
                tracing::info!(service = self.service, "classifier answers again: SERVING");
                ServingStatus::Serving
            } else {
                let error = probe.err().map(|s| s.message().to_string());
                tracing::warn!(
                    service = self.service,
                    error = error.as_deref().unwrap_or_default(),
                    "classifier unreachable: NOT_SERVING until it answers"
                );
                ServingStatus::NotServing
            };
            self.metrics.count(
                "exportctl_classifier_transitions_total",
                "Changes of the classifier's reachability, by the state changed to.",
                &[("to", if up { "up" } else { "down" })],
                1,
            );
            self.reporter.set_service_status(self.service, status).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_are_transitions() {
        let s = ClassifierUp::default();
        assert!(s.is_up());
        assert_eq!(s.observe(true), None);
        assert_eq!(s.observe(false), Some(false));
        assert_eq!(s.observe(false), None);
        let mut out = String::new();
        s.render(&mut out);
        assert!(out.contains("\nexportctl_classifier_up 0\n"), "{out}");
        assert_eq!(s.observe(true), Some(true));
        let mut out = String::new();
        s.render(&mut out);
        assert!(out.contains("\nexportctl_classifier_up 1\n"), "{out}");
        exportctl_runtime::metrics::check_exposition(&out).expect("valid exposition");
    }
}
