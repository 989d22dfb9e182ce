//! One client connection: what it is doing, when it must be closed, and the stream wrapper that tells.
//!
//! hyper has one timer for "headers are slow" and "the connection is idle" (its header-read timeout also
//! runs between requests), but the two need different values: a slowloris client must be cut after a few
//! seconds, while an idle keep-alive connection from a load balancer must outlive the balancer's own idle
//! timeout (60 s for nginx and most cloud balancers), or requests race the close and fail with 502. So
//! the [`Watchdog`] keeps both clocks from what [`Activity`] sees on the socket and in the service.
//!
//! [`GuardedStream`] also gives hyper's own error answers a body: a malformed request line, headers over
//! the limit or a URI too long are refused by hyper's parser, before any service runs, with an empty
//! `400`/`431`/`414`. The wrapper recognises exactly those heads on the way out (hyper writes them alone and
//! closes the connection after) and sends them as problem JSON instead.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What a connection is doing, shared by its stream, its service and its watchdog. Times are milliseconds
/// since the connection opened, +1 so that 0 means "not set".
pub struct Activity {
    opened: Instant,
    /// Requests handed to the service and not answered yet.
    in_flight: AtomicUsize,
    /// When the first byte of a request head arrived while no request was in flight.
    head_started: AtomicU64,
    /// When the connection last moved a byte or finished a request.
    last_active: AtomicU64,
}

impl Activity {
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity {
            opened: Instant::now(),
            in_flight: AtomicUsize::new(0),
            head_started: AtomicU64::new(0),
            last_active: AtomicU64::new(1),
        })
    }

    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64 + 1
    }

    fn bytes_read(&self) {
        let now = self.now();
        self.last_active.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Acquire) == 0 {
            // Only the first byte of a head starts its clock: later bytes must not extend it.
            let _ = self
                .head_started
                .compare_exchange(0, now, Ordering::AcqRel, Ordering::Relaxed);
        }
    }

    fn bytes_written(&self) {
        self.last_active.store(self.now(), Ordering::Relaxed);
    }

    /// A request reached the service: its head is complete. The guard marks it answered when dropped.
    pub fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        self.head_started.store(0, Ordering::Release);
        RequestGuard(self.clone())
    }
}

pub struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.last_active.store(self.0.now(), Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Why the watchdog closed a connection (a metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    HeaderTimeout,
    IdleTimeout,
}

impl Closed {
    pub fn label(self) -> &'static str {
        match self {
            Closed::HeaderTimeout => "header_timeout",
            Closed::IdleTimeout => "idle_timeout",
        }
    }
}

pub struct Watchdog {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Watchdog {
    /// Resolves when the connection has to go: a request head took longer than `header_read_timeout`
    /// to arrive, or nothing happened for `idle_timeout` while no request was in flight. In-flight requests
    /// are bounded by the request timeout instead.
    pub async fn expired(&self, activity: &Activity) -> Closed {
        let ms = |d: Duration| d.as_millis() as u64;
        loop {
            let now = activity.now();
            let wake_at = if activity.in_flight.load(Ordering::Acquire) > 0 {
                now + ms(self.idle_timeout)
            } else {
                let head = activity.head_started.load(Ordering::Acquire);
                if head != 0 {
                    let deadline = head + ms(self.header_read_timeout);
                    if now >= deadline {
                        return Closed::HeaderTimeout;
                    }
                    deadline
                } else {
                    let deadline =
                        activity.last_active.load(Ordering::Relaxed) + ms(self.idle_timeout);
                    if now >= deadline {
                        return Closed::IdleTimeout;
                    }
                    // A head may start meanwhile: look again in time to hold its shorter deadline.
                    deadline.min(now + ms(self.header_read_timeout))
                }
            };
            tokio::time::sleep(Duration::from_millis(wake_at.saturating_sub(now).max(1))).await;
        }
    }
}

/// The automatic answers of hyper's request parser, and the problem JSON sent in their place.
const PARSER_ANSWERS: &[(&[u8], u16, &str)] = &[
    (
        b"HTTP/1.1 400 Bad Request\r\n",
        400,
        "malformed HTTP request (request line or headers)",
    ),
    (
        b"HTTP/1.1 414 URI Too Long\r\n",
        414,
        "request URI too long",
    ),
    (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n",
        431,
        "request headers too large",
    ),
];

/// `Some(replacement)` when `head` is one of hyper's parser answers: one of the statuses above, no body
/// (`content-length: 0`) and no content type. Our handlers never answer an error without a content type.
fn parser_answer(head: &[u8], max_header_bytes: usize) -> Option<Vec<u8>> {
    let (_, status, detail) = PARSER_ANSWERS
        .iter()
        .find(|(line, ..)| head.starts_with(line))?;
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")?;
    let headers = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    if !headers.contains("\r\ncontent-length: 0") || headers.contains("\r\ncontent-type:") {
        return None;
    }
    let detail = match status {
        431 => format!("{detail} (limit {max_header_bytes} bytes: server.max_header_bytes)"),
        _ => (*detail).to_owned(),
    };
    let status_code = axum::http::StatusCode::from_u16(*status).ok()?;
    let body = serde_json::to_vec(&crate::api::problem::Problem::new(status_code, detail)).ok()?;
    let mut out = Vec::with_capacity(end + body.len() + 96);
    let kept = String::from_utf8_lossy(&head[..end]);
    for line in kept.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("content-length:") {
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"content-type: application/problem+json\r\nconnection: close\r\n");
    out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(&body);
    Some(out)
}

/// A TCP stream that reports its activity and replaces hyper's empty parser answers with problem JSON.
pub struct GuardedStream<S> {
    inner: S,
    activity: Arc<Activity>,
    max_header_bytes: usize,
    /// A replacement being written: (bytes, written so far, length of the original write it stands for).
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<S> GuardedStream<S> {
    pub fn new(inner: S, activity: Arc<Activity>, max_header_bytes: usize) -> Self {
        GuardedStream {
            inner,
            activity,
            max_header_bytes,
            replacing: None,
        }
    }
}

impl<S: AsyncWrite + Unpin> GuardedStream<S> {
    /// Writes the pending replacement; `Ready(n)` reports the original write's length once all is out.
    fn drain_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((bytes, done, _)) = &mut self.replacing {
            if *done == bytes.len() {
                break;
            }
            let n = std::task::ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        let (_, _, original) = self.replacing.take().expect("a replacement is pending");
        self.activity.bytes_written();
        Poll::Ready(Ok(original))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for GuardedStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_read();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GuardedStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            match parser_answer(buf, this.max_header_bytes) {
                Some(bytes) => this.replacing = Some((bytes, 0, buf.len())),
                None => {
                    let r = Pin::new(&mut this.inner).poll_write(cx, buf);
                    if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
                        this.activity.bytes_written();
                    }
                    return r;
                }
            }
        }
        this.drain_replacement(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // A parser answer is a head alone, written as one slice; anything else goes out vectored.
        let first = bufs.iter().find(|b| !b.is_empty());
        let this = self.get_mut();
        if this.replacing.is_some()
            || first.is_some_and(|b| {
                b.len() == bufs.iter().map(|b| b.len()).sum::<usize>()
                    && parser_answer(b, this.max_header_bytes).is_some()
            })
        {
            return Pin::new(this).poll_write(cx, first.expect("checked above"));
        }
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.bytes_written();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_bare_parser_answers_are_replaced() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 06:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(parser_answer(bare, 65536).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
        assert!(head.contains("\r\ndate: "), "other headers kept: {head}");
        assert!(head.contains("content-type: application/problem+json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["status"], 431);
        assert!(v["detail"].as_str().unwrap().contains("65536"), "{v}");

        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n";
        assert!(parser_answer(ours, 65536).is_none(), "a handler's answer");
        let with_body = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n";
        assert!(parser_answer(with_body, 65536).is_none());
        let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
        assert!(parser_answer(ok, 65536).is_none());
        assert!(
            parser_answer(b"HTTP/1.1 400 Bad Request\r\ncontent-len", 65536).is_none(),
            "head incomplete"
        );
    }
}
