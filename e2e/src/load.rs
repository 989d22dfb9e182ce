//! The continuous publisher of the fault drills: one new version after another, each attempt recorded with
//! its start, its latency and its answer, so a drill can tell how fast writes failed during an outage, when
//! they recovered, and whether every acknowledged publish is still there afterwards.
//!
//! Bounded like the reader ([`crate::reader`]): a request timeout, a pause between attempts, a maximum
//! duration and count; it stops by itself.

use crate::registry::{Registry, encode_name};
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One publish attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub version: String,
    /// Since the publisher started.
    pub started: Duration,
    pub took: Duration,
    /// The HTTP status, or the transport error.
    pub outcome: Result<u16, String>,
}

impl Attempt {
    pub fn acknowledged(&self) -> bool {
        self.outcome == Ok(200)
    }
}

pub struct Publisher {
    pub name: String,
    pub started_at: Instant,
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Attempt>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub pause: Duration,
    pub timeout: Duration,
    pub max_duration: Duration,
    pub max_attempts: usize,
}

impl Default for Bounds {
    fn default() -> Bounds {
        Bounds {
            pause: Duration::from_millis(100),
            timeout: Duration::from_secs(10),
            max_duration: Duration::from_secs(600),
            max_attempts: 5_000,
        }
    }
}

impl Publisher {
    /// Publishes `name` at `1.0.0`, `1.0.1`, … through `base` with `token` until stopped.
    pub fn start(base: &str, token: &str, name: &str, bounds: Bounds) -> anyhow::Result<Publisher> {
        crate::init_crypto();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(bounds.timeout)
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let started_at = Instant::now();
        let (url, token, name_owned) = (
            format!("{}/v0.1/publish", base.trim_end_matches('/')),
            token.to_string(),
            name.to_string(),
        );
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut attempts = Vec::new();
            while !flag.load(Ordering::Relaxed)
                && started_at.elapsed() < bounds.max_duration
                && attempts.len() < bounds.max_attempts
            {
                let version = format!("1.0.{}", attempts.len());
                let started = started_at.elapsed();
                let t = Instant::now();
                let outcome = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&Registry::server_doc(&name_owned, &version))
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| crate::reader::chain(&e));
                attempts.push(Attempt {
                    version,
                    started,
                    took: t.elapsed(),
                    outcome,
                });
                tokio::time::sleep(bounds.pause).await;
            }
            attempts
        });
        Ok(Publisher {
            name: name.to_string(),
            started_at,
            stop,
            task,
        })
    }

    pub async fn stop(self) -> anyhow::Result<Vec<Attempt>> {
        self.stop.store(true, Ordering::Relaxed);
        Ok(tokio::time::timeout(Duration::from_secs(30), self.task).await??)
    }
}

/// Counts over a list of attempts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteStats {
    pub attempts: usize,
    pub acknowledged: usize,
    pub failed: usize,
    /// The slowest failed attempt (how fast writes failed).
    pub slowest_failure: Duration,
    /// Failures by answer: `"503"`, `"transport"`, ….
    pub failures_by_answer: std::collections::BTreeMap<String, usize>,
}

impl WriteStats {
    pub fn of<'a>(attempts: impl IntoIterator<Item = &'a Attempt>) -> WriteStats {
        let mut s = WriteStats::default();
        for a in attempts {
            s.attempts += 1;
            if a.acknowledged() {
                s.acknowledged += 1;
                continue;
            }
            s.failed += 1;
            s.slowest_failure = s.slowest_failure.max(a.took);
            let key = match &a.outcome {
                Ok(code) => code.to_string(),
                Err(_) => "transport".to_string(),
            };
            *s.failures_by_answer.entry(key).or_default() += 1;
        }
        s
    }

    pub fn summary(&self) -> String {
        format!(
            "{} publishes, {} acknowledged, {} failed {:?} (slowest failure {:.2}s)",
            self.attempts,
            self.acknowledged,
            self.failed,
            self.failures_by_answer,
            self.slowest_failure.as_secs_f64()
        )
    }
}

/// Every acknowledged version of `name` that the registry does not list afterwards (should be none), and
/// how many unacknowledged ones it lists (a failed publish that committed anyway: a commit whose answer
/// was lost, or a late commit).
pub async fn missing_and_unexpected(
    reg: &Registry,
    name: &str,
    attempts: &[Attempt],
) -> anyhow::Result<(Vec<String>, usize)> {
    // The versions endpoint lists every version of a name in one answer.
    let page: Value = reg
        .get(&format!("/v0.1/servers/{}/versions", encode_name(name)))
        .await?;
    let present: std::collections::BTreeSet<String> = page["servers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["server"]["version"].as_str().map(str::to_owned))
        .collect();
    let missing = attempts
        .iter()
        .filter(|a| a.acknowledged() && !present.contains(&a.version))
        .map(|a| a.version.clone())
        .collect();
    let unexpected = attempts
        .iter()
        .filter(|a| !a.acknowledged() && present.contains(&a.version))
        .count();
    Ok((missing, unexpected))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(v: &str, ms: u64, outcome: Result<u16, String>) -> Attempt {
        Attempt {
            version: v.into(),
            started: Duration::ZERO,
            took: Duration::from_millis(ms),
            outcome,
        }
    }

    #[test]
    fn stats_count_acknowledged_and_failed_by_answer() {
        let a = [
            attempt("1.0.0", 20, Ok(200)),
            attempt("1.0.1", 2_100, Ok(503)),
            attempt("1.0.2", 900, Ok(503)),
            attempt("1.0.3", 5, Err("refused".into())),
        ];
        let s = WriteStats::of(&a);
        assert_eq!((s.attempts, s.acknowledged, s.failed), (4, 1, 3));
        assert_eq!(s.slowest_failure, Duration::from_millis(2_100));
        assert_eq!(s.failures_by_answer["503"], 2);
        assert_eq!(s.failures_by_answer["transport"], 1);
    }
}
