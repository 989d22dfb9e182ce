//! The continuous reader that runs through an upgrade or rollback and counts failed requests.
//!
//! It reads through the Service's **ClusterIP** from the test process: every request then goes through
//! kube-proxy's rules to whichever endpoints are ready at that moment — readiness, EndpointSlice updates
//! and the server's SIGTERM drain are all exercised exactly as for an in-cluster client. (A port-forward
//! would pin one pod and break when that pod is replaced; re-establishing it would hide exactly the failures
//! this test is for.) The local cluster routes the Service CIDR onto its bridge; on kind the workflow adds
//! a host route to the node (docs/e2e.md).
//!
//! Like a real client it keeps connections alive (reqwest's pool). A request fails on a transport error, a
//! non-2xx status, or a body that does not hold the expected data. Loops are bounded in time and count and
//! stop by themselves.

use reqwest::StatusCode;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What one read must return: a path and a check of its JSON body.
#[derive(Clone)]
pub struct Target {
    pub path: String,
    pub check: Arc<dyn Fn(&Value) -> bool + Send + Sync>,
}

#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub total: u64,
    pub failed: u64,
    /// The first failures with their time since the reader started (enough to line them up with events).
    pub failures: Vec<String>,
    pub elapsed: Duration,
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.total += o.total;
        self.failed += o.failed;
        self.failures.extend(o.failures);
        self.elapsed = self.elapsed.max(o.elapsed);
    }
    pub fn summary(&self) -> String {
        format!(
            "{} requests in {:.1}s, {} failed",
            self.total,
            self.elapsed.as_secs_f64(),
            self.failed
        )
    }
}

pub struct Reader {
    stop: Arc<AtomicBool>,
    workers: Vec<tokio::task::JoinHandle<Stats>>,
}

/// Limits that keep the loop bounded even if the test never stops it.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub workers: usize,
    pub pause: Duration,
    pub max_duration: Duration,
    pub max_requests_per_worker: u64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            workers: 2,
            pause: Duration::from_millis(40),
            max_duration: Duration::from_secs(900),
            max_requests_per_worker: 200_000,
        }
    }
}

/// Classifies one answer; `None` means success.
pub fn classify(
    status: Option<StatusCode>,
    body: Option<&Value>,
    transport: Option<&str>,
    check: &dyn Fn(&Value) -> bool,
) -> Option<String> {
    if let Some(e) = transport {
        return Some(format!("transport: {e}"));
    }
    match status {
        Some(s) if !s.is_success() => Some(format!("HTTP {}", s.as_u16())),
        Some(_) => match body {
            Some(b) if check(b) => None,
            Some(b) => Some(format!(
                "unexpected body: {}",
                truncate(&b.to_string(), 200)
            )),
            None => Some("body is not JSON".into()),
        },
        None => Some("no answer".into()),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// Full error chain of a reqwest error (the top level alone says only "error sending request").
pub fn chain(e: &reqwest::Error) -> String {
    mcp_registry_client::error_chain(e)
}

impl Reader {
    pub fn start(base: &str, targets: Vec<Target>, limits: Limits) -> anyhow::Result<Reader> {
        crate::init_crypto();
        anyhow::ensure!(!targets.is_empty(), "the reader needs at least one target");
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(5))
            .connect_timeout(Duration::from_secs(2))
            .build()?;
        let stop = Arc::new(AtomicBool::new(false));
        let started = Instant::now();
        let workers = (0..limits.workers)
            .map(|w| {
                let (http, stop, targets) = (http.clone(), stop.clone(), targets.clone());
                let base = base.trim_end_matches('/').to_string();
                tokio::spawn(async move {
                    let mut st = Stats::default();
                    let mut i = w;
                    while !stop.load(Ordering::Relaxed)
                        && started.elapsed() < limits.max_duration
                        && st.total < limits.max_requests_per_worker
                    {
                        let t = &targets[i % targets.len()];
                        i += 1;
                        let outcome = match http.get(format!("{base}{}", t.path)).send().await {
                            Err(e) => classify(None, None, Some(&chain(&e)), &*t.check),
                            Ok(r) => {
                                let status = r.status();
                                let body = r.json::<Value>().await.ok();
                                classify(Some(status), body.as_ref(), None, &*t.check)
                            }
                        };
                        st.total += 1;
                        if let Some(why) = outcome {
                            st.failed += 1;
                            if st.failures.len() < 20 {
                                st.failures.push(format!(
                                    "+{:.2}s {} {why}",
                                    started.elapsed().as_secs_f64(),
                                    t.path
                                ));
                            }
                        }
                        tokio::time::sleep(limits.pause).await;
                    }
                    st.elapsed = started.elapsed();
                    st
                })
            })
            .collect();
        Ok(Reader { stop, workers })
    }

    /// Stops the workers and adds up their counts.
    pub async fn stop(self) -> Stats {
        self.stop.store(true, Ordering::Relaxed);
        let mut total = Stats::default();
        for w in self.workers {
            match tokio::time::timeout(Duration::from_secs(30), w).await {
                Ok(Ok(s)) => total.merge(s),
                Ok(Err(e)) => {
                    total.failed += 1;
                    total.failures.push(format!("reader task died: {e}"));
                }
                Err(_) => {
                    total.failed += 1;
                    total
                        .failures
                        .push("reader task did not stop within 30s".into());
                }
            }
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn is_110(v: &Value) -> bool {
        v["server"]["version"] == "1.1.0"
    }

    #[test]
    fn classification() {
        let ok = json!({"server": {"version": "1.1.0"}});
        assert_eq!(
            classify(Some(StatusCode::OK), Some(&ok), None, &is_110),
            None
        );
        assert_eq!(
            classify(Some(StatusCode::SERVICE_UNAVAILABLE), None, None, &is_110).unwrap(),
            "HTTP 503"
        );
        assert!(
            classify(Some(StatusCode::OK), Some(&json!({})), None, &is_110)
                .unwrap()
                .starts_with("unexpected body")
        );
        assert!(
            classify(None, None, Some("connection refused"), &is_110)
                .unwrap()
                .contains("refused")
        );
        assert_eq!(
            classify(Some(StatusCode::OK), None, None, &is_110).unwrap(),
            "body is not JSON"
        );
    }

    #[tokio::test]
    async fn bounded_by_request_count_and_counts_failures() {
        // Nothing listens on port 9 of loopback: every request is a transport failure, and the loop ends
        // by itself at the request bound.
        let limits = Limits {
            workers: 1,
            pause: Duration::from_millis(1),
            max_duration: Duration::from_secs(20),
            max_requests_per_worker: 3,
        };
        let t = Target {
            path: "/x".into(),
            check: Arc::new(|_| true),
        };
        let r = Reader::start("http://127.0.0.1:9", vec![t], limits).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let st = r.stop().await;
        assert_eq!((st.total, st.failed), (3, 3), "{st:?}");
        assert!(st.failures[0].contains("transport"), "{:?}", st.failures);
    }
}
