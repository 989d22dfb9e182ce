//! `mcp-registry sync --once`: run the configured sources in this process (under the same leases as the
//! servers, so it is safe next to running replicas) and print each report as JSON. Exit 1 when a run
//! failed or another replica was running a source.

use crate::app;
use crate::config::Config;
use crate::sync::{Outcome, Syncer};
use std::process::ExitCode;

pub async fn run_once(config: Config, only: Option<&str>) -> anyhow::Result<ExitCode> {
    if config.sync.sources.is_empty() {
        anyhow::bail!("no sync source is configured: set sync.sources or pass --upstream URL");
    }
    let sync = config.sync.clone();
    let store = app::open_store(&config.resolve()?.store).await?;
    app::migrate_with_retry(&store, std::time::Duration::from_secs(60)).await?;
    let metrics = crate::metrics::Metrics::new(store.backend());
    let syncer = Syncer::new(store, &sync, &metrics)?.expect("sources checked above");
    let names: Vec<String> = match only {
        Some(n) if !syncer.source_names().contains(&n) => {
            anyhow::bail!(
                "no sync source named '{n}' (configured: {})",
                syncer.source_names().join(", ")
            )
        }
        Some(n) => vec![n.to_owned()],
        None => syncer
            .source_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let mut ok = true;
    for name in names {
        let outcome = syncer.run_once(&name, true).await?;
        match &outcome {
            Outcome::Ran { report } if report.error.is_none() => {}
            _ => ok = false,
        }
        let line = serde_json::json!({ "source": name, "result": outcome });
        println!("{line}");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
