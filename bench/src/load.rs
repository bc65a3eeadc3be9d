//! Load generators: closed loop (N connections × M calls in flight, as fast as
//! the server answers) and open loop (a fixed arrival rate, latency measured
//! from each call's scheduled start so queueing is not hidden).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tonic::transport::{Channel, Endpoint};

use crate::services::ProcStats;

/// Opens `n` HTTP/2 connections to `url` (one tonic Channel each).
pub async fn connect(url: &str, n: usize) -> anyhow::Result<Vec<Channel>> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let ch = Endpoint::from_shared(url.to_string())?
            .tcp_nodelay(true)
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .with_context(|| format!("connecting to {url}"))?;
        out.push(ch);
    }
    Ok(out)
}

/// Latencies in microseconds, 1 µs .. 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, 60_000_000)
}

/// A process whose CPU time is attributed to the run.
#[derive(Debug, Clone, Copy)]
pub struct Watched {
    pub pid: Option<u32>,
}

impl Watched {
    pub fn read(&self) -> ProcStats {
        match self.pid {
            Some(pid) => ProcStats::read(pid).unwrap_or_default(),
            None => ProcStats::own().unwrap_or_default(),
        }
    }
}

/// What one measured window saw.
pub struct Measured {
    /// Calls completed inside the window.
    pub ok: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub window: Duration,
    pub latency_us: Histogram<u64>,
    /// CPU seconds each watched process spent inside the window.
    pub cpu_seconds: Vec<f64>,
}

impl Measured {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.window.as_secs_f64()
    }

    pub fn ms(&self, q: f64) -> f64 {
        self.latency_us.value_at_quantile(q) as f64 / 1000.0
    }

    /// CPU microseconds per completed call of the i-th watched process.
    pub fn cpu_us_per_call(&self, i: usize) -> f64 {
        self.cpu_seconds[i] * 1e6 / self.ok.max(1) as f64
    }

    /// Adds another window of the same workload (interleaved rounds).
    pub fn merge(&mut self, other: Measured) {
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.window += other.window;
        self.latency_us.add(other.latency_us).expect("same bounds");
        for (a, b) in self.cpu_seconds.iter_mut().zip(other.cpu_seconds) {
            *a += b;
        }
    }
}

/// Warm-up, then the measured window.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub warmup: Duration,
    pub duration: Duration,
}

struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn new(t: Timing) -> Self {
        let start = Instant::now() + t.warmup;
        Self {
            start,
            end: start + t.duration,
        }
    }

    fn contains(&self, t: Instant) -> bool {
        t >= self.start && t <= self.end
    }
}

/// Samples the watched processes' CPU time at the window's edges.
async fn sample_cpu(window: &Window, watched: &[Watched]) -> Vec<f64> {
    tokio::time::sleep_until(window.start).await;
    let before: Vec<f64> = watched.iter().map(|w| w.read().cpu_seconds).collect();
    tokio::time::sleep_until(window.end).await;
    watched
        .iter()
        .zip(before)
        .map(|(w, b)| w.read().cpu_seconds - b)
        .collect()
}

#[derive(Default)]
struct Errors {
    count: AtomicU64,
    first: Mutex<Option<String>>,
}

impl Errors {
    fn record(&self, e: &tonic::Status) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
        if first.is_none() {
            *first = Some(format!("{:?}: {}", e.code(), e.message()));
        }
    }

    fn take(&self) -> (u64, Option<String>) {
        let first = self.first.lock().unwrap_or_else(|p| p.into_inner()).take();
        (self.count.load(Ordering::Relaxed), first)
    }
}

/// Closed loop: `in_flight` workers per connection, each issuing its next call
/// as soon as the previous one answers, until the window ends. `call(channel,
/// n)` makes the n-th call (n is unique across workers).
pub async fn closed_loop<F, Fut>(
    channels: &[Channel],
    in_flight: usize,
    timing: Timing,
    watched: &[Watched],
    call: F,
) -> Measured
where
    F: Fn(Channel, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send + 'static,
{
    let call = Arc::new(call);
    let window = Arc::new(Window::new(timing));
    let seq = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(Errors::default());
    let mut workers = tokio::task::JoinSet::new();
    for ch in channels {
        for _ in 0..in_flight {
            let (call, window, seq, errors, ch) = (
                call.clone(),
                window.clone(),
                seq.clone(),
                errors.clone(),
                ch.clone(),
            );
            workers.spawn(async move {
                let mut hist = histogram();
                let mut ok = 0u64;
                loop {
                    let start = Instant::now();
                    if start >= window.end {
                        break;
                    }
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    let result = call(ch.clone(), n).await;
                    let end = Instant::now();
                    match result {
                        Ok(()) if window.contains(end) => {
                            ok += 1;
                            hist.record(micros(end - start)).expect("in range");
                        }
                        Ok(()) => {}
                        Err(e) => errors.record(&e),
                    }
                }
                (ok, hist)
            });
        }
    }
    let cpu_seconds = sample_cpu(&window, watched).await;
    let mut latency_us = histogram();
    let mut ok = 0;
    while let Some(joined) = workers.join_next().await {
        let (n, h) = joined.expect("load worker panicked");
        ok += n;
        latency_us.add(h).expect("same bounds");
    }
    let (errors, first_error) = errors.take();
    Measured {
        ok,
        errors,
        first_error,
        window: timing.duration,
        latency_us,
        cpu_seconds,
    }
}

/// Open loop: calls start at `rate` per second, round-robin over the
/// connections, whether or not earlier ones have answered (at most
/// `max_outstanding` at once). Latency runs from the scheduled start, so a
/// server that falls behind shows it in the percentiles.
pub async fn open_loop<F, Fut>(
    channels: &[Channel],
    rate: f64,
    max_outstanding: usize,
    timing: Timing,
    watched: &[Watched],
    call: F,
) -> Measured
where
    F: Fn(Channel, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), tonic::Status>> + Send + 'static,
{
    let call = Arc::new(call);
    let begin = Instant::now();
    let window = Arc::new(Window::new(timing));
    let errors = Arc::new(Errors::default());
    let hist = Arc::new(Mutex::new(histogram()));
    let ok = Arc::new(AtomicU64::new(0));
    let permits = Arc::new(Semaphore::new(max_outstanding));
    let sampler = {
        let window = window.clone();
        let watched = watched.to_vec();
        tokio::spawn(async move { sample_cpu(&window, &watched).await })
    };
    let mut tasks = tokio::task::JoinSet::new();
    let interval = Duration::from_secs_f64(1.0 / rate);
    for n in 0u64.. {
        let scheduled = begin + interval.mul_f64(n as f64);
        if scheduled >= window.end {
            break;
        }
        if scheduled > Instant::now() {
            tokio::time::sleep_until(scheduled).await;
        }
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore open");
        let ch = channels[n as usize % channels.len()].clone();
        let (call, window, errors, hist, ok) = (
            call.clone(),
            window.clone(),
            errors.clone(),
            hist.clone(),
            ok.clone(),
        );
        tasks.spawn(async move {
            let result = call(ch, n).await;
            let end = Instant::now();
            drop(permit);
            match result {
                Ok(()) if window.contains(scheduled) => {
                    ok.fetch_add(1, Ordering::Relaxed);
                    hist.lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(micros(end - scheduled))
                        .expect("in range");
                }
                Ok(()) => {}
                Err(e) => errors.record(&e),
            }
        });
        // Reap finished tasks so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let cpu_seconds = sampler.await.expect("cpu sampler");
    let (errors, first_error) = errors.take();
    let latency_us = hist.lock().unwrap_or_else(|p| p.into_inner()).clone();
    Measured {
        ok: ok.load(Ordering::Relaxed),
        errors,
        first_error,
        window: timing.duration,
        latency_us,
        cpu_seconds,
    }
}
