//! The `git` source's fetch: a shallow (depth 1) bare clone of the configured ref into a temporary
//! directory, then the file at `path` in that commit's tree. Built on `gix` (pure Rust) rather than the
//! git CLI because the registry's image is one static binary on an empty root filesystem: there is no
//! git to call. Its HTTP transport is the registry's own reqwest/rustls build, so TLS verification and
//! the system's trust store are the same as for every other request; `ssh://` is not supported.
//!
//! Credentials (`username`, `token_file`) are sent as an HTTP Basic `Authorization` header
//! (`http.extraHeader`), which GitHub, GitLab and Gitea accept for access tokens, and are never written
//! to disk: the clone's configuration lives in memory.

use super::RunCtx;
use base64::Engine;
use std::sync::atomic::AtomicBool;

/// The file's bytes at the configured ref, and the revision (`git:<commit id>`).
pub async fn read_file(ctx: &RunCtx<'_>) -> anyhow::Result<(Vec<u8>, String)> {
    let cfg = ctx.config().clone();
    let token = ctx.token().map(str::to_owned);
    let timeout = cfg.timeout;
    let repo = cfg.repository.clone();
    let fetch = tokio::task::spawn_blocking(move || fetch_blocking(&cfg, token.as_deref()));
    match tokio::time::timeout(timeout, fetch).await {
        Ok(joined) => joined?,
        Err(_) => anyhow::bail!(
            "{repo}: no answer within {}",
            humantime::format_duration(timeout)
        ),
    }
}

fn is_commit_id(r: &str) -> bool {
    r.len() == 40 && r.bytes().all(|b| b.is_ascii_hexdigit())
}

fn fetch_blocking(
    cfg: &crate::config::SourceConfig,
    token: Option<&str>,
) -> anyhow::Result<(Vec<u8>, String)> {
    let url = cfg.repository.as_str();
    let err = |what: &str, e: &dyn std::fmt::Display| anyhow::anyhow!("{url}: {what}: {e}");
    let dir = tempfile::tempdir()?;
    let mut prepare = gix::prepare_clone_bare(url, dir.path())
        .map_err(|e| err("cannot clone", &e))?
        .with_shallow(gix::remote::fetch::Shallow::DepthAtRemote(
            std::num::NonZeroU32::MIN,
        ));
    if is_commit_id(&cfg.git_ref) {
        prepare = prepare
            .with_revision(Some(cfg.git_ref.as_str()))
            .map_err(|e| err("ref", &e))?;
    } else if !cfg.git_ref.is_empty() {
        prepare = prepare
            .with_ref_name(Some(cfg.git_ref.as_str()))
            .map_err(|e| err("ref", &e))?;
    }
    if let Some(token) = token {
        let user = if cfg.username.is_empty() {
            "mcp-registry"
        } else {
            cfg.username.as_str()
        };
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"));
        prepare = prepare.with_in_memory_config_overrides([format!(
            "http.extraHeader=Authorization: Basic {basic}"
        )]);
    }
    let (repo, _) = prepare
        .fetch_only(gix::progress::Discard, &AtomicBool::new(false))
        .map_err(|e| err("fetch failed", &e))?;
    let commit = repo
        .head_commit()
        .map_err(|e| err("no commit at the ref", &e))?;
    let id = commit.id.to_string();
    let tree = commit.tree().map_err(|e| err("tree", &e))?;
    let entry = tree
        .lookup_entry_by_path(&cfg.path)
        .map_err(|e| err("path", &e))?
        .ok_or_else(|| anyhow::anyhow!("{url}: no file {} at commit {id}", cfg.path))?;
    let object = entry.object().map_err(|e| err("blob", &e))?;
    anyhow::ensure!(
        object.data.len() <= cfg.max_bytes,
        "{url}: {} is {} bytes, more than max_bytes ({})",
        cfg.path,
        object.data.len(),
        cfg.max_bytes
    );
    Ok((object.data.clone(), format!("git:{id}")))
}
