//! The `registry` source: an incremental walk of an MCP Registry API v0.1 endpoint ([`super::upstream`])
//! from the stored high-water mark, resumable page by page.
//!
//! The mark only moves when a walk completes: pages are ordered by name, not by time, so an unfinished
//! walk's newest `updatedAt` says nothing about what it has not read yet. An unfinished walk (upstream
//! failure, a bound, a crash) is continued from its last applied page with the same `since`.
//!
//! Nor is a completed walk's newest `updatedAt` a safe mark by itself: a version changed while the walk
//! ran, under a name the cursor had already passed, was not seen, yet a later change under a name still
//! ahead of the cursor was. So the mark is the newest `updatedAt` seen but never later than the upstream's
//! clock (its `Date` header) when the walk — including a resumed one — began: everything changed after
//! that is asked for again. Each walk also starts [`OVERLAP`] before the mark, for changes committed late
//! with an earlier timestamp; re-reading what was already applied changes nothing (idempotent).

use super::RunCtx;
use super::apply::{self, Candidate};
use super::state::{Progress, RunReport, SourceState};
use super::upstream::{Item, Limits, Walker};
use std::str::FromStr;

pub const OVERLAP: chrono::Duration = chrono::Duration::seconds(2);

pub async fn run(
    ctx: &RunCtx<'_>,
    state: &mut SourceState,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let cfg = ctx.config();
    let progress = state.in_progress.clone().unwrap_or_else(|| Progress {
        since: state.high_water.map(|t| t - OVERLAP),
        cursor: None,
        max_seen: None,
        started: None,
    });
    let limits = Limits {
        page_size: cfg.page_size,
        max_pages: cfg.max_pages,
        max_items: cfg.max_items,
        max_page_bytes: cfg.max_bytes,
        timeout: cfg.timeout,
    };
    let mut walker = Walker::new(
        ctx.http(),
        &cfg.url,
        progress.since,
        progress.cursor.clone(),
        limits,
    );
    let mut progress = progress;
    state.in_progress = Some(progress.clone());
    loop {
        report.requests += 1;
        let page = match walker.next().await {
            Ok(Some(p)) => p,
            Ok(None) => {
                report.requests -= 1; // a bound stopped the walk before asking
                break;
            }
            Err(e) => {
                // The pages applied so far are saved; the next run continues after them.
                return Err(e);
            }
        };
        progress.started = progress.started.or(walker.upstream_time);
        for item in page.items {
            match item {
                Item::Rejected {
                    name,
                    version,
                    reason,
                } => {
                    report.rejected += 1;
                    report.problem(&name, &version, reason);
                }
                Item::Entry(e) => {
                    progress.max_seen = progress.max_seen.max(Some(e.updated_at));
                    let status = crate::model::Status::from_str(&e.status)
                        .map_err(|m| anyhow::anyhow!(m))?;
                    let c = Candidate {
                        server: e.server,
                        name: e.name,
                        version: e.version,
                        status,
                        status_message: e.status_message,
                        published_at: e.published_at,
                        upstream_updated_at: Some(e.updated_at),
                        is_latest: e.is_latest,
                    };
                    apply::take(ctx.store(), cfg, c, report).await?;
                }
            }
        }
        progress.cursor = page.next_cursor.clone();
        let finished = page.next_cursor.is_none();
        if finished {
            break;
        }
        state.in_progress = Some(progress.clone());
        ctx.checkpoint(state).await?;
    }
    if walker.summary.truncated {
        report.truncated = true;
        state.in_progress = Some(progress);
        return Ok(());
    }
    let seen = match (progress.max_seen, progress.started) {
        (Some(seen), Some(started)) => Some(seen.min(started - chrono::Duration::seconds(1))),
        (seen, _) => seen,
    };
    state.high_water = state.high_water.max(seen);
    state.in_progress = None;
    Ok(())
}
