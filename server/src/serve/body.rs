//! A request body that must arrive within `server.body_read_timeout` of its head.
//!
//! A client that trickles its body holds a connection and a handler; without a deadline of its own the
//! request ends at the request timeout as a misleading `504` (the registry was not slow, the client was).
//! When the deadline passes, the body fails, the handler's read fails with it, and the connection's service
//! answers `408` instead of whatever the handler made of the failed read.

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::time::Sleep;

pub struct DeadlineBody<B> {
    inner: B,
    deadline: Pin<Box<Sleep>>,
    expired: Arc<AtomicBool>,
}

impl<B> DeadlineBody<B> {
    /// The body, and the flag that tells whether its deadline passed before it was complete.
    pub fn new(inner: B, timeout: Duration) -> (Self, Arc<AtomicBool>) {
        let expired = Arc::new(AtomicBool::new(false));
        let body = DeadlineBody {
            inner,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            expired: expired.clone(),
        };
        (body, expired)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("request body not received in time")]
pub struct BodyTimedOut;

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.store(true, Ordering::SeqCst);
            return Poll::Ready(Some(Err(Box::new(BodyTimedOut))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
