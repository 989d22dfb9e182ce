//! Polling with a deadline. Every wait in the suite goes through here, so none can hang: on timeout the
//! error names what was awaited and the last reason it was not there yet.

use std::future::Future;
use std::time::{Duration, Instant};

/// One observation of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check<T> {
    /// Reached.
    Done(T),
    /// Not yet; the reason is shown on timeout (and when it changes, if verbose).
    Pending(String),
    /// Will never be reached (e.g. ProgressDeadlineExceeded, a failed Job): stop waiting at once.
    Failed(String),
}

/// Polls `probe` every `interval` until it is `Done` or `Failed`, or `timeout` passes. A probe error (API
/// hiccup) counts as pending: the last one is reported on timeout.
pub async fn until<T, F, Fut>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut probe: F,
) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Check<T>>>,
{
    let deadline = Instant::now() + timeout;
    let mut last: String;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        // A single probe may not outlive the deadline either (a hung API call is a hang too).
        match tokio::time::timeout(remaining.max(Duration::from_millis(1)), probe()).await {
            Ok(Ok(Check::Done(v))) => return Ok(v),
            Ok(Ok(Check::Failed(why))) => anyhow::bail!("{what}: {why}"),
            Ok(Ok(Check::Pending(why))) => last = why,
            Ok(Err(e)) => last = format!("error: {e:#}"),
            Err(_) => last = "the check itself did not return in time".into(),
        }
        if Instant::now() >= deadline {
            anyhow::bail!("timed out after {timeout:?} waiting for {what}; last state: {last}");
        }
        tokio::time::sleep(interval.min(deadline.saturating_duration_since(Instant::now()))).await;
    }
}

/// `fut` under a deadline, with a message naming it.
pub async fn within<T>(
    what: &str,
    timeout: Duration,
    fut: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => anyhow::bail!("timed out after {timeout:?}: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn done_after_pending() {
        let mut n = 0;
        let v = until(
            "n >= 3",
            Duration::from_secs(5),
            Duration::from_millis(1),
            || {
                n += 1;
                let c = if n >= 3 {
                    Check::Done(n)
                } else {
                    Check::Pending(format!("n={n}"))
                };
                async move { Ok(c) }
            },
        )
        .await
        .unwrap();
        assert_eq!(v, 3);
    }

    #[tokio::test]
    async fn failed_stops_at_once() {
        let err = until::<(), _, _>(
            "x",
            Duration::from_secs(30),
            Duration::from_secs(10),
            || async { Ok(Check::Failed("deadline exceeded".into())) },
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("deadline exceeded"));
    }

    #[tokio::test]
    async fn timeout_names_the_last_state() {
        let err = until::<(), _, _>(
            "pods",
            Duration::from_millis(30),
            Duration::from_millis(5),
            || async { Ok(Check::Pending("1 of 2 ready".into())) },
        )
        .await
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("timed out") && err.contains("1 of 2 ready"),
            "{err}"
        );
    }
}
