//! Progress output with timings: every line carries the time since the test started, every step its own
//! duration — `[  12.3s] pg: install: all workloads rolled out (8.1s)` — so a slow or hanging step is obvious
//! from the log alone (CI keeps nothing else when a job times out).

use std::future::Future;
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct Progress {
    start: Instant,
    label: String,
}

impl Progress {
    pub fn new(label: impl Into<String>) -> Progress {
        Progress {
            start: Instant::now(),
            label: label.into(),
        }
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn elapsed_secs(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// One progress line (stderr: cargo test shows it live with --nocapture, and it never mixes with a
    /// harness's stdout parsing).
    pub fn log(&self, msg: impl AsRef<str>) {
        eprintln!(
            "[{:>7.1}s] {}: {}",
            self.elapsed_secs(),
            self.label,
            msg.as_ref()
        );
    }

    /// Runs `fut` as a named step: logs its start, then its outcome with its duration.
    pub async fn step<T, F>(&self, name: &str, fut: F) -> anyhow::Result<T>
    where
        F: Future<Output = anyhow::Result<T>>,
    {
        let t = Instant::now();
        self.log(format!("{name} ..."));
        let out = fut.await;
        let secs = t.elapsed().as_secs_f64();
        match &out {
            Ok(_) => self.log(format!("{name}: ok ({secs:.1}s)")),
            Err(e) => self.log(format!("{name}: FAILED after {secs:.1}s: {e:#}")),
        }
        out
    }
}
