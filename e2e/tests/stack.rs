//! The mcp-registry-stack chart on a real cluster. Both tests are #[ignore]d: `cargo test --workspace` has
//! no cluster; `e2e/run` runs them with `-- --ignored` (against the local cluster), the e2e workflow on kind.
//!
//! `postgres_stack_lifecycle` runs the scenarios in order on one release, in one namespace:
//!   1. install (PostgreSQL + Redis) → every workload rolled out → smoke through a port-forward;
//!   2. upgrade (new image tag + config change) with a continuous reader → rollout → data intact, 0 failures;
//!   3. rollback to revision 1, same checks;
//!   4. `helm test`;
//!   5. uninstall → nothing left but the kept credentials Secret and the StatefulSets' retained PVCs.
//!
//! `mongodb_stack_lifecycle` (scenario 6) installs the MongoDB-backed stack, smoke, `helm test`, uninstall.

use e2e::helm::Release;
use e2e::namespace::{self, TestEnv};
use e2e::reader::{Limits, Reader, Stats};
use e2e::registry::{Published, Registry};
use e2e::stack::{
    RELEASE, connect, helm_timeout, install, record, release, server_pods, service_base,
};
use e2e::wait::{self, Check};
use e2e::{leftovers, rollout, unique_suffix};
use serde_json::Value;
use std::time::{Duration, Instant};

const UPGRADED_URL: &str = "http://registry-e2e-upgraded.invalid";

/// /readyz must say ready, on `backend`, with Redis up: both stores were reached by their Service names.
async fn assert_ready(env: &TestEnv, reg: &Registry, backend: &str) -> anyhow::Result<()> {
    let ready = wait::until(
        "/readyz ready with redis up",
        Duration::from_secs(60),
        Duration::from_secs(1),
        || async {
            let v = reg.readyz().await?;
            Ok(if v["status"] == "ready" && v["redis"] == "up" {
                Check::Done(v)
            } else {
                Check::Pending(v.to_string())
            })
        },
    )
    .await?;
    anyhow::ensure!(
        ready["backend"] == backend,
        "/readyz backend is not {backend}: {ready}"
    );
    env.progress.log(format!(
        "name resolution inside the image: /readyz = {ready} (store {RELEASE}-{} and {RELEASE}-redis reached by Service name)",
        if backend == "postgres" { "postgresql" } else { backend }
    ));
    Ok(())
}

/// After a rollout: wait until every server pod runs `image` and none is terminating (the old pods drain
/// for up to terminationGracePeriodSeconds after the Deployment already reports success).
async fn wait_server_pods_settled(env: &TestEnv, image: &str) -> anyhow::Result<()> {
    wait::until(
        &format!("only non-terminating server pods on {image}"),
        Duration::from_secs(180),
        Duration::from_millis(500),
        || async {
            let pods = server_pods(&env.cluster.client, &env.ns).await?;
            let odd: Vec<String> = pods
                .iter()
                .filter(|p| {
                    p.metadata.deletion_timestamp.is_some()
                        || p.spec
                            .as_ref()
                            .map(|s| s.containers[0].image.as_deref() != Some(image))
                            .unwrap_or(true)
                })
                .map(|p| p.metadata.name.clone().unwrap_or_default())
                .collect();
            Ok(if odd.is_empty() && !pods.is_empty() {
                Check::Done(())
            } else {
                Check::Pending(format!("old or terminating: {odd:?}"))
            })
        },
    )
    .await
}

async fn openapi_servers(reg: &Registry) -> anyhow::Result<Value> {
    // /openapi.json carries `servers` = [{url: public_url}] when it is configured.
    let doc = reg.get("/openapi.json").await?;
    Ok(doc["servers"].clone())
}

/// Starts the reader against the Service's ClusterIP (see reader.rs for why).
async fn start_reader(env: &TestEnv, published: &Published) -> anyhow::Result<Reader> {
    let base = service_base(env).await?;
    let targets = e2e::stack::smoke_targets(published);
    env.progress
        .log(format!("continuous reader started against {base}"));
    Reader::start(&base, targets, Limits::default())
}

async fn finish_reader(env: &TestEnv, reader: Reader) -> anyhow::Result<Stats> {
    // Keep reading a little after the last old pod is gone: late endpoint updates would show up here.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats = reader.stop().await;
    env.progress
        .log(format!("continuous reader: {}", stats.summary()));
    for f in &stats.failures {
        env.progress.log(format!("  failed: {f}"));
    }
    Ok(stats)
}

fn assert_no_failures(what: &str, stats: &Stats) -> anyhow::Result<()> {
    anyhow::ensure!(
        stats.total >= 50,
        "{what}: the reader made only {} requests",
        stats.total
    );
    anyhow::ensure!(
        stats.failed == 0,
        "{what}: {} of {} requests failed; first failures:\n  {}",
        stats.failed,
        stats.total,
        stats.failures.join("\n  ")
    );
    Ok(())
}

/// Uninstall, then check that the namespace holds nothing of the release but what is kept on purpose:
/// the credentials Secret (`helm.sh/resource-policy: keep`, so a reinstall finds the passwords its volumes
/// were initialised with) and the StatefulSets' PVCs (`persistentVolumeClaimRetentionPolicy: Retain`).
async fn uninstall_and_check(env: &TestEnv, rel: &Release) -> anyhow::Result<()> {
    let client = &env.cluster.client;
    let mut kept = vec![format!("secret/{RELEASE}-credentials")];
    let pvcs = leftovers::statefulset_pvcs(client, &env.ns).await?;
    kept.extend(pvcs.iter().map(|p| format!("persistentvolumeclaim/{p}")));
    let (t, outer) = helm_timeout(env);
    env.helm
        .run(&env.helm.uninstall_args(rel, t), outer)
        .await?;
    leftovers::wait_no_pods(client, &env.ns, Duration::from_secs(180)).await?;
    let left = leftovers::list(client, &env.ns, &kept).await?;
    env.progress
        .log(format!("kept by policy (if present): {kept:?}"));
    anyhow::ensure!(
        left.is_empty(),
        "left behind after helm uninstall: {left:?}"
    );
    Ok(())
}

async fn helm_test(env: &TestEnv, rel: &Release) -> anyhow::Result<()> {
    let (t, outer) = helm_timeout(env);
    let out = env.helm.run(&env.helm.test_args(rel, t), outer).await?;
    let phase_ok = out
        .lines()
        .any(|l| l.starts_with("Phase:") && l.contains("Succeeded"));
    anyhow::ensure!(phase_ok, "helm test did not report Phase Succeeded:\n{out}");
    if env.helm.test_prints_logs() {
        // `--logs` printed the test pod's output: the smoke's last line proves it ran to the end.
        anyhow::ensure!(
            out.contains("smoke test passed"),
            "helm test output lacks the smoke's success line:\n{out}"
        );
    } else {
        env.progress.log(
            "Helm 3: no --logs (helm/helm#9098); the test pod's exit status is the smoke's verdict",
        );
    }
    Ok(())
}

/// Scenario 2 or 3: `change` (helm upgrade/rollback) under a continuous reader, then checks.
async fn change_under_load<F>(
    env: &TestEnv,
    what: &str,
    published: &Published,
    image: &str,
    change: F,
) -> anyhow::Result<Stats>
where
    F: std::future::Future<Output = anyhow::Result<String>>,
{
    let reader = start_reader(env, published).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let p = &env.progress;
    let outcome = async {
        p.step(&format!("  helm {what} (--wait)"), change).await?;
        let client = &env.cluster.client;
        let rollout_timeout = env.settings.rollout_timeout;
        p.step(
            "  every workload rolled out",
            rollout::wait_all(client, &env.ns, 3, rollout_timeout, p),
        )
        .await?;
        p.step(
            &format!("  old server pods gone, all on {image}"),
            wait_server_pods_settled(env, image),
        )
        .await
    }
    .await;
    // Stop the reader whatever happened: its counts are part of the diagnosis.
    let stats = finish_reader(env, reader).await?;
    outcome?;
    assert_no_failures(what, &stats)?;
    Ok(stats)
}

async fn postgres_lifecycle(env: TestEnv) -> anyhow::Result<()> {
    let p = env.progress.clone();
    let base = release(&env, &[]);
    let upgraded = release(&env, &["upgrade.yaml"]);
    let (t, outer) = helm_timeout(&env);
    let workloads = e2e::stack::POSTGRES_WORKLOADS;

    let started = Instant::now();
    let published = p
        .step("scenario 1: install + smoke", async {
            install(&env, &base, "postgres", &workloads).await?;
            let (_pf, reg) = connect(&env).await?;
            assert_ready(&env, &reg, "postgres").await?;
            reg.smoke(&format!("io.example.e2e/server-{}", unique_suffix()))
                .await
        })
        .await?;
    record(&env, "install", started, None, None);

    let started = Instant::now();
    let stats = p
        .step(
            "scenario 2: upgrade (image tag local-2 + config) under load",
            async {
                let args = env.helm.upgrade_args(&upgraded, t, false);
                let stats = change_under_load(
                    &env,
                    "upgrade",
                    &published,
                    "mcp-registry:local-2",
                    env.helm.run(&args, outer),
                )
                .await?;
                let (_pf, reg) = connect(&env).await?;
                reg.verify(&published).await?;
                let servers = openapi_servers(&reg).await?;
                anyhow::ensure!(
                    servers[0]["url"] == UPGRADED_URL,
                    "config change not served: servers={servers}"
                );
                let h = env.helm.history(&upgraded).await?;
                anyhow::ensure!(
                    h.last() == Some(&(2, "deployed".to_string())),
                    "history after upgrade: {h:?}"
                );
                Ok(stats)
            },
        )
        .await?;
    record(&env, "upgrade", started, Some(&stats), None);

    let started = Instant::now();
    let stats = p
        .step("scenario 3: rollback to revision 1 under load", async {
            let args = env.helm.rollback_args(&base, 1, t);
            let stats = change_under_load(
                &env,
                "rollback",
                &published,
                "mcp-registry:local",
                env.helm.run(&args, outer),
            )
            .await?;
            let (_pf, reg) = connect(&env).await?;
            reg.verify(&published).await?;
            let servers = openapi_servers(&reg).await?;
            anyhow::ensure!(
                !servers.to_string().contains(UPGRADED_URL),
                "revision 2's config still served: {servers}"
            );
            let h = env.helm.history(&base).await?;
            anyhow::ensure!(
                h.last() == Some(&(3, "deployed".to_string())),
                "history after rollback: {h:?}"
            );
            Ok(stats)
        })
        .await?;
    record(&env, "rollback", started, Some(&stats), None);

    let started = Instant::now();
    p.step("scenario 4: helm test", helm_test(&env, &base))
        .await?;
    record(&env, "helm-test", started, None, None);

    let started = Instant::now();
    p.step(
        "scenario 5: uninstall leaves only what the policy keeps",
        uninstall_and_check(&env, &base),
    )
    .await?;
    record(&env, "uninstall", started, None, None);
    Ok(())
}

async fn mongodb_lifecycle(env: TestEnv) -> anyhow::Result<()> {
    let p = env.progress.clone();
    let rel = release(&env, &["mongodb.yaml"]);
    let workloads = [
        "deployment/reg-mcp-registry",
        "statefulset/reg-mongodb",
        "statefulset/reg-redis",
    ];
    let started = Instant::now();
    p.step("scenario 6: install on MongoDB + smoke", async {
        install(&env, &rel, "mongodb", &workloads).await?;
        let (_pf, reg) = connect(&env).await?;
        assert_ready(&env, &reg, "mongodb").await?;
        let published = reg
            .smoke(&format!("io.example.e2e/mongo-{}", unique_suffix()))
            .await?;
        reg.verify(&published).await
    })
    .await?;
    p.step("scenario 6: helm test", helm_test(&env, &rel))
        .await?;
    p.step("scenario 6: uninstall", uninstall_and_check(&env, &rel))
        .await?;
    record(&env, "mongodb", started, None, None);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kubernetes cluster: run e2e/run"]
async fn postgres_stack_lifecycle() {
    namespace::run("postgres-stack", postgres_lifecycle).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kubernetes cluster with a Mongo-wire image (kind): run e2e/run"]
async fn mongodb_stack_lifecycle() {
    namespace::run("mongodb-stack", mongodb_lifecycle).await;
}
