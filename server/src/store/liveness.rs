//! Whether the request a write belongs to is still waiting for its answer.
//!
//! Writes run detached from their request ([`super::layers::detached`]), so a client that disconnects, or a
//! request that times out, cannot leave a write half done. But a write that was queued (on a connection,
//! on its server's lock) while its client gave up must not commit afterwards: the client saw a failure,
//! and a publish appearing later is a silent late commit. So every detached write carries a flag that the
//! request clears when it goes away, and the stores look at it at their point of no return — just before
//! the SQL transaction commits, just before the MongoDB store's first write under its lease. Past that
//! point the write completes, as before, and its outcome is what a retry sees (a duplicate version, the
//! new status).

use super::{StoreError, StoreResult};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

tokio::task_local! {
    static WANTED: Arc<AtomicBool>;
}

/// Held by the request while its write runs elsewhere; dropping it (the request ended, answered or not)
/// tells the write it is no longer wanted. [`Requester::answered`] disarms it.
pub struct Requester(Option<Arc<AtomicBool>>);

impl Requester {
    pub fn new() -> (Requester, Arc<AtomicBool>) {
        let flag = Arc::new(AtomicBool::new(true));
        (Requester(Some(flag.clone())), flag)
    }

    pub fn answered(mut self) {
        self.0 = None;
    }
}

impl Drop for Requester {
    fn drop(&mut self) {
        if let Some(flag) = self.0.take() {
            flag.store(false, Ordering::SeqCst);
        }
    }
}

/// Runs `write` knowing whether its request still waits (see [`still_wanted`]).
pub async fn run_for<F: std::future::Future>(wanted: Arc<AtomicBool>, write: F) -> F::Output {
    WANTED.scope(wanted, write).await
}

/// `Err` when the request this write runs for has ended: the write must stop before its point of no
/// return. Writes that run outside any request (import, sync, tests on a bare store) are always wanted.
pub fn still_wanted() -> StoreResult<()> {
    let wanted = WANTED
        .try_with(|w| w.load(Ordering::SeqCst))
        .unwrap_or(true);
    if wanted {
        Ok(())
    } else {
        Err(StoreError::Abandoned)
    }
}
