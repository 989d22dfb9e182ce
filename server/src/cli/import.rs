//! `mcp-registry import`: bulk-load server.json documents straight into the configured store, with the
//! same validation as `POST /publish`, a progress bar, and a summary of what was accepted and why anything
//! was rejected. Nothing is lost silently: every rejected entry is listed with its index, name and reason.

use super::ConfigArgs;
use crate::config::{Config, Overrides};
use crate::store::NewVersion;
use crate::{app, validation};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;
use std::process::ExitCode;

/// The schema id to add to entries that have none (older seed files predate the required `$schema`).
const CURRENT_SCHEMA: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// A file path or an http(s) URL holding a JSON array of server.json objects.
    pub source: String,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Add the current `$schema` to entries that lack one instead of rejecting them.
    #[arg(long)]
    pub fill_schema: bool,
    /// Exit 0 even when some entries were rejected.
    #[arg(long)]
    pub allow_rejects: bool,
}

async fn read_source(source: &str) -> anyhow::Result<String> {
    if source.starts_with("http://") || source.starts_with("https://") {
        let resp = reqwest::get(source)
            .await
            .map_err(|e| anyhow::anyhow!("GET {source}: {e}"))?;
        if !resp.status().is_success() {
            anyhow::bail!("GET {source}: HTTP {}", resp.status());
        }
        Ok(resp.text().await?)
    } else {
        std::fs::read_to_string(source).map_err(|e| anyhow::anyhow!("cannot read {source}: {e}"))
    }
}

/// Why an entry cannot be published, or the version to insert.
fn prepare(entry: &Value, fill_schema: bool) -> Result<NewVersion, String> {
    let mut entry = entry.clone();
    if fill_schema && entry.is_object() && entry.get("$schema").is_none() {
        entry["$schema"] = Value::String(CURRENT_SCHEMA.into());
    }
    let stored = validation::Stored::of(&entry);
    let mut problems: Vec<String> = validation::check_structure(&entry, "body")
        .into_iter()
        .chain(stored.check_semantic().errors)
        .map(|e| format!("{}: {}", e.location, e.message))
        .collect();
    if let Err(m) = stored.check_publisher_meta_size() {
        problems.push(m);
    }
    problems.dedup();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(NewVersion::from_stored(&stored))
}

pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(args.config.config.as_deref(), &Overrides::default())?;
    let text = read_source(&args.source).await?;
    let entries: Vec<Value> = serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a JSON array of server.json objects: {e}",
            args.source
        )
    })?;
    let store = app::open_store(&config.resolve()?.store).await?;
    app::migrate_with_retry(&store, std::time::Duration::from_secs(60)).await?;

    let bar = ProgressBar::new(entries.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {per_sec} eta {eta} {msg}")
            .expect("valid template"),
    );
    let mut accepted = 0usize;
    let mut rejected: Vec<(usize, String, String)> = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let label = format!(
            "{}@{}",
            entry["name"].as_str().unwrap_or("<no name>"),
            entry["version"].as_str().unwrap_or("<no version>")
        );
        match prepare(entry, args.fill_schema) {
            Err(reason) => rejected.push((i, label, reason)),
            Ok(v) => match store.publish(v).await {
                Ok(_) => accepted += 1,
                Err(e) => rejected.push((i, label, e.to_string())),
            },
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "imported from {}: {accepted} accepted, {} rejected",
        args.source,
        rejected.len()
    );
    for (i, label, reason) in &rejected {
        println!("  rejected [{i}] {label}: {reason}");
    }
    Ok(if rejected.is_empty() || args.allow_rejects {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
