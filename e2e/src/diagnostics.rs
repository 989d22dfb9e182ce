//! What a failed test leaves behind for whoever reads the CI log: workload rollout states, every pod with its
//! containers' states and restarts, the namespace's events in time order, and each container's log (the
//! previous instance's too when it restarted). Printed to stderr and, with `E2E_ARTIFACTS`, written to
//! `<dir>/<namespace>.txt` (CI uploads that directory).

use crate::rollout;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{ListParams, LogParams};
use kube::{Api, Client};
use std::fmt::Write as _;
use std::path::Path;

const LOG_TAIL: i64 = 150;

pub async fn collect(client: &Client, ns: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "===== diagnostics of namespace {ns} =====");
    match rollout::observe(client, ns, None).await {
        Ok(items) => {
            let _ = writeln!(out, "--- workloads");
            for (n, s) in items {
                let _ = writeln!(out, "{n}: {s:?}");
            }
        }
        Err(e) => {
            let _ = writeln!(out, "cannot list workloads: {e:#}");
        }
    }
    let pods_api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let pods = match pods_api.list(&ListParams::default()).await {
        Ok(p) => p.items,
        Err(e) => {
            let _ = writeln!(out, "cannot list pods: {e:#}");
            Vec::new()
        }
    };
    let _ = writeln!(out, "--- pods");
    for p in &pods {
        out.push_str(&describe_pod(p));
    }
    out.push_str(&events(client, ns).await);
    for p in &pods {
        out.push_str(&logs(&pods_api, p).await);
    }
    out
}

pub fn describe_pod(p: &Pod) -> String {
    let mut out = String::new();
    let name = p.metadata.name.clone().unwrap_or_default();
    let st = p.status.clone().unwrap_or_default();
    let ready = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Ready")
        .map(|c| format!("{} {}", c.status, c.reason.clone().unwrap_or_default()))
        .unwrap_or_else(|| "?".into());
    let deleting = if p.metadata.deletion_timestamp.is_some() {
        " (terminating)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "pod {name}: phase={} ready={ready} ip={}{deleting}",
        st.phase.clone().unwrap_or_default(),
        st.pod_ip.clone().unwrap_or_default()
    );
    let all = st
        .init_container_statuses
        .iter()
        .flatten()
        .map(|c| ("init", c));
    let all = all.chain(st.container_statuses.iter().flatten().map(|c| ("", c)));
    for (kind, c) in all {
        let state = c.state.as_ref().map(container_state).unwrap_or_default();
        let last = c
            .last_state
            .as_ref()
            .map(container_state)
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {kind}container {}: ready={} restarts={} image={} state={state}{}",
            c.name,
            c.ready,
            c.restart_count,
            c.image,
            if last.is_empty() {
                String::new()
            } else {
                format!(" last={last}")
            }
        );
    }
    out
}

fn container_state(s: &k8s_openapi::api::core::v1::ContainerState) -> String {
    if let Some(w) = &s.waiting {
        return format!(
            "waiting({} {})",
            w.reason.clone().unwrap_or_default(),
            w.message.clone().unwrap_or_default()
        );
    }
    if let Some(t) = &s.terminated {
        return format!(
            "terminated(exit {} {} {})",
            t.exit_code,
            t.reason.clone().unwrap_or_default(),
            t.message.clone().unwrap_or_default()
        );
    }
    if s.running.is_some() {
        return "running".into();
    }
    String::new()
}

async fn events(client: &Client, ns: &str) -> String {
    let mut out = String::from("--- events (oldest first)\n");
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    match api.list(&ListParams::default()).await {
        Ok(list) => {
            let mut evs = list.items;
            let when = |e: &Event| {
                e.last_timestamp
                    .as_ref()
                    .map(|t| t.0.to_string())
                    .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
                    .unwrap_or_default()
            };
            evs.sort_by_key(when);
            for e in evs.iter().rev().take(80).rev() {
                let _ = writeln!(
                    out,
                    "{} {} {} {}/{} x{}: {}",
                    when(e),
                    e.type_.clone().unwrap_or_default(),
                    e.reason.clone().unwrap_or_default(),
                    e.involved_object.kind.clone().unwrap_or_default(),
                    e.involved_object.name.clone().unwrap_or_default(),
                    e.count.unwrap_or(1),
                    e.message.clone().unwrap_or_default().trim()
                );
            }
        }
        Err(e) => {
            let _ = writeln!(out, "cannot list events: {e:#}");
        }
    }
    out
}

async fn logs(api: &Api<Pod>, p: &Pod) -> String {
    let mut out = String::new();
    let name = p.metadata.name.clone().unwrap_or_default();
    let st = p.status.clone().unwrap_or_default();
    let statuses = st
        .init_container_statuses
        .iter()
        .flatten()
        .chain(st.container_statuses.iter().flatten());
    for c in statuses {
        let mut variants = vec![false];
        if c.restart_count > 0 {
            variants.push(true);
        }
        for previous in variants {
            let lp = LogParams {
                container: Some(c.name.clone()),
                previous,
                tail_lines: Some(LOG_TAIL),
                ..Default::default()
            };
            let which = if previous { "previous" } else { "current" };
            let _ = writeln!(
                out,
                "--- logs {name}/{} ({which}, last {LOG_TAIL} lines)",
                c.name
            );
            match api.logs(&name, &lp).await {
                Ok(text) => out.push_str(&text),
                Err(e) => {
                    let _ = writeln!(out, "(no logs: {e})");
                }
            }
        }
    }
    out
}

/// Collects, prints and (with an artifacts dir) saves the diagnostics of `ns`.
pub async fn dump(client: &Client, ns: &str, artifacts: Option<&Path>) {
    let text = collect(client, ns).await;
    eprintln!("{text}");
    if let Some(dir) = artifacts {
        let path = dir.join(format!("{ns}.txt"));
        if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| std::fs::write(&path, &text)) {
            eprintln!("warning: cannot write {}: {e}", path.display());
        } else {
            eprintln!("diagnostics saved to {}", path.display());
        }
    }
}
