//! What the chart tests on the mcp-registry-stack share: the release and its values, install with rollout
//! and store checks, a port-forwarded client, the Service's ClusterIP as seen from the test host, the
//! server pods, and the report lines.

use crate::helm::Release;
use crate::namespace::TestEnv;
use crate::reader::Stats;
use crate::registry::{self, Registry};
use crate::wait::{self, Check};
use crate::{portforward, repo_root, report, rollout};
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::api::ListParams;
use kube::{Api, Client};
use serde_json::json;
use std::time::{Duration, Instant};

pub const RELEASE: &str = "reg";
pub const SERVICE: &str = "reg-mcp-registry";
pub const PORT: i32 = 8080;
/// The workloads of the stack on PostgreSQL (with Redis), as `rollout::wait_all` names them.
pub const POSTGRES_WORKLOADS: [&str; 3] = [
    "deployment/reg-mcp-registry",
    "statefulset/reg-postgresql",
    "statefulset/reg-redis",
];
pub const SERVER_PODS: &str = "app.kubernetes.io/instance=reg,app.kubernetes.io/component=server";

/// The stack release with the environment's values, `e2e/tests/values/e2e.yaml`, then `extra` files from
/// the same directory.
pub fn release(env: &TestEnv, extra: &[&str]) -> Release {
    let dir = repo_root().join("e2e/tests/values");
    let mut values = vec![env.settings.values_file.clone(), dir.join("e2e.yaml")];
    values.extend(extra.iter().map(|f| dir.join(f)));
    Release {
        name: RELEASE.into(),
        namespace: env.ns.clone(),
        chart: repo_root().join("charts/mcp-registry-stack"),
        values,
        set: Vec::new(),
    }
}

/// One JSON line per scenario for e2e/run's summary: wall time, the reader's counts, and the scenario's
/// figures in words (the drills' measurements).
pub fn record(
    env: &TestEnv,
    scenario: &str,
    started: Instant,
    stats: Option<&Stats>,
    figures: Option<String>,
) {
    let secs = started.elapsed().as_secs_f64();
    report(
        &env.settings,
        json!({
            "test": env.progress.label(), "scenario": scenario, "seconds": (secs * 10.0).round() / 10.0,
            "requests": stats.map(|s| s.total), "failed_requests": stats.map(|s| s.failed),
            "figures": figures,
        }),
    );
}

/// (helm's own --timeout, the bound of the helm process).
pub fn helm_timeout(env: &TestEnv) -> (Duration, Duration) {
    let t = env.settings.rollout_timeout;
    (t, t + Duration::from_secs(60))
}

/// Install, roll out, and check that the pods reach their stores by Service name.
pub async fn install(
    env: &TestEnv,
    rel: &Release,
    backend: &str,
    workloads: &[&str],
) -> anyhow::Result<()> {
    let (t, outer) = helm_timeout(env);
    env.helm.run(&env.helm.install_args(rel, t), outer).await?;
    let names = rollout::wait_all(
        &env.cluster.client,
        &env.ns,
        workloads.len(),
        t,
        &env.progress,
    )
    .await?;
    env.progress
        .log(format!("rolled out: {}", names.join(", ")));
    for w in workloads {
        anyhow::ensure!(
            names.iter().any(|n| n == w),
            "{w} is missing (found {names:?})"
        );
    }
    // The registry's config names its stores by Service name (no IPs), so /readyz=ready below can only
    // mean that name resolution worked inside the registry image.
    let cm = Api::<ConfigMap>::namespaced(env.cluster.client.clone(), &env.ns)
        .get(SERVICE)
        .await?;
    let config = cm
        .data
        .and_then(|d| d.get("config.yaml").cloned())
        .unwrap_or_default();
    let store_host = format!(
        "@{RELEASE}-{}:",
        if backend == "postgres" {
            "postgresql"
        } else {
            backend
        }
    );
    anyhow::ensure!(
        config.contains(&store_host),
        "config.yaml does not reach the store as {store_host}: {config}"
    );
    anyhow::ensure!(
        config.contains(&format!("redis://{RELEASE}-redis:")),
        "config.yaml has no redis://{RELEASE}-redis: {config}"
    );
    Ok(())
}

/// A port-forward to a ready registry pod plus a client holding the admin token.
pub async fn connect(env: &TestEnv) -> anyhow::Result<(portforward::PortForward, Registry)> {
    let client = &env.cluster.client;
    let pf =
        portforward::to_service(client, &env.ns, SERVICE, PORT, Duration::from_secs(60)).await?;
    let token = registry::admin_token(client, &env.ns, RELEASE).await?;
    let reg = Registry::new(pf.url(), Some(token))?;
    Ok((pf, reg))
}

pub async fn server_pods(client: &Client, ns: &str) -> anyhow::Result<Vec<Pod>> {
    Ok(Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(SERVER_PODS))
        .await?
        .items)
}

/// What the continuous reader checks: the smoke's server (latest is 1.1.0, two versions). No scenario writes
/// to it, so its pages stay cached and stable.
pub fn smoke_targets(published: &crate::registry::Published) -> Vec<crate::reader::Target> {
    use crate::reader::Target;
    use std::sync::Arc;
    vec![
        Target {
            path: published.latest_path(),
            check: Arc::new(|v: &serde_json::Value| v["server"]["version"] == "1.1.0"),
        },
        Target {
            path: published.versions_path(),
            check: Arc::new(|v: &serde_json::Value| v["metadata"]["count"] == 2),
        },
    ]
}

/// `http://<ClusterIP>:8080` of the registry's Service, once the test host reaches it (otherwise every
/// request of a reader would fail for a reason unrelated to the release).
pub async fn service_base(env: &TestEnv) -> anyhow::Result<String> {
    let svc = Api::<Service>::namespaced(env.cluster.client.clone(), &env.ns)
        .get(SERVICE)
        .await?;
    let ip = svc
        .spec
        .and_then(|s| s.cluster_ip)
        .ok_or_else(|| anyhow::anyhow!("{SERVICE} has no ClusterIP"))?;
    let base = format!("http://{ip}:{PORT}");
    let probe = Registry::new(&base, None)?;
    wait::until(
        &format!("{base} (Service ClusterIP) reachable from the test host"),
        Duration::from_secs(30),
        Duration::from_secs(1),
        || async {
            Ok(match probe.get("/healthz").await {
                Ok(_) => Check::Done(()),
                Err(e) => Check::Pending(format!(
                    "{e:#} — the host needs a route to the Service CIDR (docs/e2e.md)"
                )),
            })
        },
    )
    .await?;
    Ok(base)
}
