//! The `file` and `git` sources: a whole list of server.json entries at a revision (the file's sha256,
//! the commit). A new revision is applied entry by entry; the versions the source owns that are no longer
//! in it (or that its filters now leave out) are marked deleted. An unchanged revision is not re-applied.
//!
//! Accepted shapes, JSON or YAML: a list of server.json documents, or the API's list response
//! (`{"servers": [{"server": …, "_meta": …}]}`, e.g. a saved `GET /v0.1/servers`), whose official `_meta`
//! status is taken.

use super::RunCtx;
use super::apply::{self, Candidate, Taken};
use super::state::{RunReport, SourceState};
use crate::config::SourceKind;
use crate::model::{OFFICIAL_META_KEY, Status};
use crate::store::VersionRef;
use serde_json::Value;
use std::collections::HashSet;
use std::str::FromStr;

/// The status message of a version that left its file or repository.
pub const REMOVED_MESSAGE: &str = "removed from its sync source";

pub async fn run(
    ctx: &RunCtx<'_>,
    state: &mut SourceState,
    report: &mut RunReport,
) -> anyhow::Result<()> {
    let cfg = ctx.config();
    let (content, revision) = match cfg.kind {
        SourceKind::Git => {
            report.requests += 1;
            super::git::read_file(ctx).await?
        }
        _ => read_file(&cfg.path, cfg.max_bytes)?,
    };
    report.revision = Some(revision.clone());
    let last_ok = state.last_run.as_ref().is_some_and(|r| r.error.is_none());
    if state.revision.as_deref() == Some(revision.as_str()) && last_ok {
        return Ok(());
    }
    let entries = parse(&content).map_err(|e| anyhow::anyhow!("{}: {e}", cfg.path))?;
    anyhow::ensure!(
        entries.len() <= cfg.max_items,
        "{}: {} entries, more than max_items ({})",
        cfg.path,
        entries.len(),
        cfg.max_items
    );
    let mut present: HashSet<(String, String)> = HashSet::new();
    for (i, element) in entries.iter().enumerate() {
        let c = match candidate(element) {
            Ok(c) => c,
            Err(reason) => {
                report.rejected += 1;
                report.problem("", &format!("entry {i}"), reason);
                continue;
            }
        };
        let key = (c.name.clone(), c.version.clone());
        if apply::take(ctx.store(), cfg, c, report).await? == Taken::Kept {
            present.insert(key);
        }
        if (i + 1) % super::CHECKPOINT_EVERY == 0 {
            ctx.checkpoint(state).await?;
        }
    }
    // Gone from the source: deleted here (never removed: versions are not reused).
    for owned in ctx.store().owned_versions(&cfg.name).await? {
        if owned.status == Status::Deleted
            || present.contains(&(owned.name.clone(), owned.version.clone()))
        {
            continue;
        }
        let Some(rec) = ctx
            .store()
            .get(&owned.name, &VersionRef::Exact(owned.version.clone()), true)
            .await?
        else {
            continue;
        };
        let gone = crate::store::SyncedVersion {
            name: rec.name,
            version: rec.version,
            server_json: rec.server_json,
            status: Status::Deleted,
            status_message: Some(REMOVED_MESSAGE.into()),
            published_at: rec.published_at,
            upstream_updated_at: rec.source_updated_at,
        };
        ctx.store().apply_synced(&cfg.name, &gone).await?;
        report.deleted += 1;
    }
    state.revision = Some(revision);
    Ok(())
}

/// The file's bytes (at most `max_bytes`) and their sha256.
fn read_file(path: &str, max_bytes: usize) -> anyhow::Result<(Vec<u8>, String)> {
    let meta = std::fs::metadata(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    anyhow::ensure!(
        meta.len() as usize <= max_bytes,
        "{path}: {} bytes, more than max_bytes ({max_bytes})",
        meta.len()
    );
    let content = std::fs::read(path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &content);
    let digest: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    let digest = format!("sha256:{digest}");
    Ok((content, digest))
}

/// The entries of a file's content.
pub fn parse(content: &[u8]) -> anyhow::Result<Vec<Value>> {
    let text = std::str::from_utf8(content).map_err(|_| anyhow::anyhow!("not UTF-8 text"))?;
    let doc: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(json_err) => serde_norway::from_str(text).map_err(|yaml_err| {
            anyhow::anyhow!("neither JSON ({json_err}) nor YAML ({yaml_err})")
        })?,
    };
    match doc {
        Value::Array(items) => Ok(items),
        Value::Object(mut o) if o.get("servers").is_some_and(Value::is_array) => {
            match o.remove("servers") {
                Some(Value::Array(items)) => Ok(items),
                _ => unreachable!("checked above"),
            }
        }
        _ => anyhow::bail!("expected a list of server.json entries or {{\"servers\": [...]}}"),
    }
}

/// One element: a server.json, or `{server, _meta}` with the registry's status.
fn candidate(element: &Value) -> Result<Candidate, String> {
    let (server, official) = match element.get("server") {
        Some(s) if s.is_object() => (s.clone(), &element["_meta"][OFFICIAL_META_KEY]),
        _ => (element.clone(), &Value::Null),
    };
    let name = server["name"].as_str().ok_or("no name")?.to_owned();
    let version = server["version"].as_str().ok_or("no version")?.to_owned();
    let status = match official["status"].as_str() {
        Some(s) => Status::from_str(s)?,
        None => Status::Active,
    };
    let time = |k: &str| {
        official[k]
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
    };
    Ok(Candidate {
        name,
        version,
        status,
        status_message: official["statusMessage"].as_str().map(str::to_owned),
        published_at: time("publishedAt"),
        upstream_updated_at: time("updatedAt"),
        is_latest: official["isLatest"].as_bool().unwrap_or(true),
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_and_both_languages_parse() {
        let list = br#"[{"name": "com.example/a", "version": "1.0.0"}]"#;
        assert_eq!(parse(list).unwrap().len(), 1);
        let api = br#"{"servers": [{"server": {"name": "com.example/a", "version": "1"}, "_meta": {}}], "metadata": {}}"#;
        assert_eq!(parse(api).unwrap().len(), 1);
        let yaml =
            b"- name: com.example/a\n  version: 1.0.0\n- name: com.example/b\n  version: 2.0.0\n";
        assert_eq!(parse(yaml).unwrap().len(), 2);
        let err = parse(b"{\"name\": 1}").unwrap_err().to_string();
        assert!(err.contains("expected a list"), "{err}");
        let c = candidate(&parse(api).unwrap()[0]).unwrap();
        assert_eq!(
            (c.name.as_str(), c.status),
            ("com.example/a", Status::Active)
        );
    }
}
