//! Fault drills on the mcp-registry-stack (PostgreSQL + Redis), each under a continuous, bounded read and
//! publish load through the Service's ClusterIP, each reporting its counts in the summary:
//!
//!   (c) install with 3 replicas starting at once: every migration applied exactly once (each pod's
//!       `migrate` init container says what it applied; together exactly the known set, none twice);
//!   (b) evict one of two registry pods (what a node drain does, so the PodDisruptionBudget is asked): 0
//!       failed reads, 0 failed publishes (readiness, the SIGTERM drain);
//!   (a) delete the PostgreSQL pod: writes fail fast (503 within ~2 s), cached reads keep answering, writes
//!       recover within 10 s of the database pod being Ready again, every acknowledged publish is there.
//!
//! #[ignore]d like the other cluster tests: `e2e/run` runs it against the local cluster.

use e2e::load::{self, Bounds, Publisher, WriteStats};
use e2e::namespace::{self, TestEnv};
use e2e::pods;
use e2e::reader::{Limits, Reader, Stats};
use e2e::registry::{self, Published, Registry};
use e2e::stack::{RELEASE, SERVICE, connect, install, record, release, server_pods, service_base};
use e2e::wait::{self, Check};
use e2e::{repo_root, unique_suffix};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, EvictParams, Patch, PatchParams};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

const PG_POD: &str = "reg-postgresql-0";
const PG_CLAIM: &str = "reg-postgresql-data";

/// Drill (a) deletes the database pod: its data must outlive it. Where the cluster has a default
/// StorageClass (kind) the stack's own claim gets a volume; the local cluster has no provisioner, so the
/// test makes a hostPath PersistentVolume in a directory of this host (the node) and a claim bound to it.
/// Returns the `--set` values, and the PersistentVolume to delete afterwards (it is not namespaced).
async fn database_volume(
    env: &TestEnv,
) -> anyhow::Result<(Vec<(String, String)>, Option<(String, std::path::PathBuf)>)> {
    use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
    use k8s_openapi::api::storage::v1::StorageClass;
    let client = &env.cluster.client;
    let classes = Api::<StorageClass>::all(client.clone())
        .list(&Default::default())
        .await?;
    let has_default = classes.items.iter().any(|c| {
        c.metadata.annotations.as_ref().is_some_and(|a| {
            a.get("storageclass.kubernetes.io/is-default-class")
                .map(String::as_str)
                == Some("true")
        })
    });
    let mut set = vec![(
        "postgresql.persistence.enabled".to_string(),
        "true".to_string(),
    )];
    if has_default {
        return Ok((set, None));
    }
    let dir = std::path::PathBuf::from(format!("/var/lib/mcp-registry-e2e-volumes/{}", env.ns));
    std::fs::create_dir_all(&dir)?;
    // The database runs as its own uid under `restricted`; a hostPath volume gets no fsGroup ownership.
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777))?;
    let pv_name = format!("{}-pg", env.ns);
    let pv: PersistentVolume = serde_json::from_value(json!({
        "metadata": {"name": pv_name, "labels": {"mcp-registry-e2e": "true"}},
        "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain", "storageClassName": "",
            "hostPath": {"path": dir.display().to_string(), "type": "Directory"},
            "claimRef": {"namespace": env.ns, "name": PG_CLAIM},
        }
    }))?;
    Api::<PersistentVolume>::all(client.clone())
        .create(&Default::default(), &pv)
        .await?;
    let pvc: PersistentVolumeClaim = serde_json::from_value(json!({
        "metadata": {"name": PG_CLAIM},
        "spec": {
            "accessModes": ["ReadWriteOnce"], "storageClassName": "", "volumeName": pv_name,
            "resources": {"requests": {"storage": "1Gi"}},
        }
    }))?;
    Api::<PersistentVolumeClaim>::namespaced(client.clone(), &env.ns)
        .create(&Default::default(), &pvc)
        .await?;
    set.push((
        "postgresql.persistence.existingClaim".into(),
        PG_CLAIM.into(),
    ));
    env.progress.log(format!(
        "database volume: hostPath PersistentVolume {pv_name} at {}",
        dir.display()
    ));
    Ok((set, Some((pv_name, dir))))
}

/// The migration versions this checkout ships (the file names' numeric prefixes).
fn known_migrations() -> anyhow::Result<BTreeSet<i64>> {
    let dir = repo_root().join("server/migrations/postgres");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(&dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if let Some(v) = name.split('_').next().and_then(|v| v.parse().ok()) {
            out.insert(v);
        }
    }
    anyhow::ensure!(!out.is_empty(), "no migrations in {}", dir.display());
    Ok(out)
}

/// What one `migrate up` log says it applied: `postgres: applied migrations [1, 2]`, or nothing for
/// `postgres: schema is current; nothing to apply`. `None`: neither line (it did not finish).
fn applied_in(log: &str) -> Option<Vec<i64>> {
    if log.contains("schema is current; nothing to apply") {
        return Some(Vec::new());
    }
    let list = log
        .split("applied migrations [")
        .nth(1)?
        .split(']')
        .next()?;
    Some(
        list.split(',')
            .filter_map(|v| v.trim().parse().ok())
            .collect(),
    )
}

/// Drill (c): which pod applied which migration.
async fn migrations_applied_once(env: &TestEnv) -> anyhow::Result<String> {
    let client = &env.cluster.client;
    let known = known_migrations()?;
    let mut applied: Vec<i64> = Vec::new();
    let mut by_pod = Vec::new();
    for pod in server_pods(client, &env.ns).await? {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let restarts = pod
            .status
            .as_ref()
            .and_then(|s| s.init_container_statuses.as_ref())
            .and_then(|c| c.iter().find(|c| c.name == "migrate"))
            .map_or(0, |c| c.restart_count);
        let log = pods::logs(client, &env.ns, &name, "migrate").await?;
        let mine = applied_in(&log).ok_or_else(|| {
            anyhow::anyhow!("{name}: its migrate log says neither what it applied nor that nothing was pending:\n{log}")
        })?;
        // A restarted init container's earlier attempt is not in this log: it could have applied some.
        anyhow::ensure!(
            restarts == 0 || mine.is_empty(),
            "{name}: migrate restarted {restarts}x; its log does not cover every attempt"
        );
        by_pod.push(format!("{name}: {mine:?}"));
        applied.extend(mine);
    }
    anyhow::ensure!(by_pod.len() == 3, "expected 3 server pods: {by_pod:?}");
    let distinct: BTreeSet<i64> = applied.iter().copied().collect();
    anyhow::ensure!(
        distinct.len() == applied.len(),
        "a migration was applied twice: {by_pod:?}"
    );
    anyhow::ensure!(
        distinct == known,
        "applied {distinct:?}, known {known:?}: {by_pod:?}"
    );
    Ok(format!(
        "3 replicas started at once; {} migrations applied exactly once ({})",
        known.len(),
        by_pod.join("; ")
    ))
}

/// Scales the registry Deployment to `n` and waits for exactly `n` ready, non-terminating server pods.
async fn scale_to(env: &TestEnv, n: i32) -> anyhow::Result<()> {
    let client = &env.cluster.client;
    Api::<Deployment>::namespaced(client.clone(), &env.ns)
        .patch_scale(
            SERVICE,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": n}})),
        )
        .await?;
    settled(env, n as usize, None).await
}

/// Waits until exactly `n` server pods run, all Ready, none terminating, and `gone` (if any) is no more.
async fn settled(env: &TestEnv, n: usize, gone: Option<&str>) -> anyhow::Result<()> {
    wait::until(
        &format!("{n} ready server pods"),
        Duration::from_secs(180),
        Duration::from_millis(500),
        || async {
            let pods = server_pods(&env.cluster.client, &env.ns).await?;
            let live: Vec<&Pod> = pods
                .iter()
                .filter(|p| p.metadata.deletion_timestamp.is_none())
                .collect();
            let ready = live
                .iter()
                .filter(|p| pods::reached(p, pods::Want::Ready))
                .count();
            let still =
                gone.is_some_and(|g| pods.iter().any(|p| p.metadata.name.as_deref() == Some(g)));
            Ok(if pods.len() == n && ready == n && !still {
                Check::Done(())
            } else {
                Check::Pending(format!(
                    "{} pods, {ready} ready, old one still there: {still}",
                    pods.len()
                ))
            })
        },
    )
    .await
}

fn reader_limits() -> Limits {
    Limits {
        workers: 2,
        pause: Duration::from_millis(50),
        max_duration: Duration::from_secs(600),
        max_requests_per_worker: 100_000,
    }
}

/// Drill (b): evict one of two registry pods under load.
async fn evict_one_registry_pod(
    env: &TestEnv,
    base: &str,
    token: &str,
    published: &Published,
) -> anyhow::Result<(String, Stats)> {
    let client = &env.cluster.client;
    let reader = Reader::start(base, e2e::stack::smoke_targets(published), reader_limits())?;
    let name = format!("io.example.e2e/evict-{}", unique_suffix());
    let publisher = Publisher::start(base, token, &name, Bounds::default())?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let victim = server_pods(client, &env.ns).await?[0]
        .metadata
        .name
        .clone()
        .unwrap_or_default();
    env.progress.log(format!("evicting {victim}"));
    let evicted_at = Instant::now();
    let outcome = async {
        Api::<Pod>::namespaced(client.clone(), &env.ns)
            .evict(&victim, &EvictParams::default())
            .await?;
        settled(env, 2, Some(&victim)).await?;
        anyhow::Ok(evicted_at.elapsed())
    }
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let reads = reader.stop().await;
    let attempts = publisher.stop().await?;
    let replaced_in = outcome?;
    let writes = WriteStats::of(&attempts);
    for f in &reads.failures {
        env.progress.log(format!("  failed read: {f}"));
    }
    let (pf, reg) = connect(env).await?;
    let (missing, _) = load::missing_and_unexpected(&reg, &name, &attempts).await?;
    drop(pf);
    let figures = format!(
        "evicted 1 of 2 registry pods; replaced and the old one gone after {:.1}s; reads: {}; writes: {}; acknowledged but missing: {}",
        replaced_in.as_secs_f64(),
        reads.summary(),
        writes.summary(),
        missing.len()
    );
    env.progress.log(&figures);
    anyhow::ensure!(reads.total >= 50, "only {} reads", reads.total);
    anyhow::ensure!(reads.failed == 0, "failed reads: {:?}", reads.failures);
    anyhow::ensure!(writes.failed == 0, "failed publishes: {}", writes.summary());
    anyhow::ensure!(
        missing.is_empty(),
        "acknowledged publishes missing: {missing:?}"
    );
    Ok((figures, reads))
}

/// The PostgreSQL pod's UID when it is Ready, else `None`.
async fn ready_pg_uid(pods_api: &Api<Pod>) -> anyhow::Result<Option<String>> {
    Ok(pods_api
        .get_opt(PG_POD)
        .await?
        .filter(|p| p.metadata.deletion_timestamp.is_none() && pods::reached(p, pods::Want::Ready))
        .and_then(|p| p.metadata.uid))
}

/// Drill (a): delete the PostgreSQL pod under load.
async fn delete_the_database_pod(
    env: &TestEnv,
    base: &str,
    token: &str,
    published: &Published,
) -> anyhow::Result<(String, Stats)> {
    let client = &env.cluster.client;
    let pods_api = Api::<Pod>::namespaced(client.clone(), &env.ns);
    let old_uid = ready_pg_uid(&pods_api)
        .await?
        .ok_or_else(|| anyhow::anyhow!("{PG_POD} is not ready before the drill"))?;
    // Warm the shared (Redis) cache with the reader's pages.
    let warm = Registry::new(base, None)?;
    for t in e2e::stack::smoke_targets(published) {
        warm.get(&t.path).await?;
    }
    let reader = Reader::start(base, e2e::stack::smoke_targets(published), reader_limits())?;
    let name = format!("io.example.e2e/outage-{}", unique_suffix());
    let publisher = Publisher::start(base, token, &name, Bounds::default())?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let deleted_at = publisher.started_at.elapsed();
    env.progress.log(format!("deleting {PG_POD}"));
    let outcome = async {
        pods_api.delete(PG_POD, &DeleteParams::default()).await?;
        let ready_after = wait::until(
            &format!("{PG_POD} replaced and Ready"),
            Duration::from_secs(240),
            Duration::from_millis(200),
            || async {
                Ok(match ready_pg_uid(&pods_api).await? {
                    Some(uid) if uid != old_uid => Check::Done(()),
                    _ => Check::Pending("not ready yet".into()),
                })
            },
        )
        .await
        .map(|_| publisher.started_at.elapsed())?;
        anyhow::Ok(ready_after)
    }
    .await;
    // Keep the load on until writes have recovered (bounded), so recovery is measured, not assumed.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let reads = reader.stop().await;
    let attempts = publisher.stop().await?;
    let pg_ready_at = outcome?;
    for f in &reads.failures {
        env.progress.log(format!("  failed read: {f}"));
    }
    let during: Vec<_> = attempts
        .iter()
        .filter(|a| a.started >= deleted_at && a.started <= pg_ready_at)
        .collect();
    let outage = WriteStats::of(during.iter().copied());
    let last_failure_end = attempts
        .iter()
        .filter(|a| !a.acknowledged())
        .map(|a| a.started + a.took)
        .max();
    let recovered_at = attempts
        .iter()
        .filter(|a| a.acknowledged() && last_failure_end.is_none_or(|f| a.started >= f))
        .map(|a| a.started + a.took)
        .min();
    let recovery = recovered_at.map(|r| r.saturating_sub(pg_ready_at));
    let (pf, reg) = connect(env).await?;
    let (missing, unexpected) = load::missing_and_unexpected(&reg, &name, &attempts).await?;
    drop(pf);
    let all = WriteStats::of(&attempts);
    let figures = format!(
        "database pod deleted at +{:.1}s, replacement Ready at +{:.1}s (outage {:.1}s); writes during it: {}; \
         writes recovered {} after Ready; reads: {}; acknowledged {} of {} publishes, missing afterwards: {}, \
         unacknowledged but present: {unexpected}",
        deleted_at.as_secs_f64(),
        pg_ready_at.as_secs_f64(),
        (pg_ready_at - deleted_at).as_secs_f64(),
        outage.summary(),
        recovery.map_or("never".to_string(), |r| format!("{:.1}s", r.as_secs_f64())),
        reads.summary(),
        all.acknowledged,
        all.attempts,
        missing.len()
    );
    env.progress.log(&figures);
    anyhow::ensure!(
        outage.failed > 0,
        "no write failed: the outage did not happen"
    );
    anyhow::ensure!(
        outage.slowest_failure <= Duration::from_secs(3),
        "writes did not fail fast: {}",
        outage.summary()
    );
    anyhow::ensure!(
        outage.failures_by_answer.keys().all(|k| k == "503"),
        "writes failed with something other than 503: {}",
        outage.summary()
    );
    anyhow::ensure!(reads.total >= 50, "only {} reads", reads.total);
    anyhow::ensure!(
        reads.failed == 0,
        "cached reads failed: {:?}",
        reads.failures
    );
    anyhow::ensure!(
        recovery.is_some_and(|r| r <= Duration::from_secs(10)),
        "writes did not recover within 10 s of the database being Ready: {recovery:?}"
    );
    anyhow::ensure!(
        missing.is_empty(),
        "acknowledged publishes missing: {missing:?}"
    );
    Ok((figures, reads))
}

async fn drills(env: TestEnv) -> anyhow::Result<()> {
    let mut rel = release(&env, &["drills.yaml"]);
    let (set, volume) = database_volume(&env).await?;
    rel.set.extend(set);
    let outcome = run_drills(&env, &rel).await;
    if let Some((pv, dir)) = volume {
        // Uninstall first: the volume is in use until the database pod is gone.
        let (t, outer) = e2e::stack::helm_timeout(&env);
        let _ = env.helm.run(&env.helm.uninstall_args(&rel, t), outer).await;
        let _ =
            Api::<k8s_openapi::api::core::v1::PersistentVolume>::all(env.cluster.client.clone())
                .delete(&pv, &DeleteParams::default())
                .await;
        let _ = std::fs::remove_dir_all(dir);
    }
    outcome
}

async fn run_drills(env: &TestEnv, rel: &e2e::helm::Release) -> anyhow::Result<()> {
    let env = env.clone();
    let p = env.progress.clone();
    let rel = rel.clone();
    let workloads = e2e::stack::POSTGRES_WORKLOADS;
    let started = Instant::now();
    let published = p
        .step("drill (c): install with 3 replicas at once", async {
            install(&env, &rel, "postgres", &workloads).await?;
            let (_pf, reg) = connect(&env).await?;
            reg.smoke(&format!("io.example.e2e/drills-{}", unique_suffix()))
                .await
        })
        .await?;
    let figures = p
        .step(
            "drill (c): migrations applied exactly once",
            migrations_applied_once(&env),
        )
        .await?;
    record(&env, "three-replicas-migrate", started, None, Some(figures));

    let token = registry::admin_token(&env.cluster.client, &env.ns, RELEASE).await?;
    p.step("scale to 2 replicas", scale_to(&env, 2)).await?;
    let base = service_base(&env).await?;

    let started = Instant::now();
    let (figures, stats) = p
        .step(
            "drill (b): evict one of two registry pods under load",
            evict_one_registry_pod(&env, &base, &token, &published),
        )
        .await?;
    record(
        &env,
        "registry-pod-evicted",
        started,
        Some(&stats),
        Some(figures),
    );

    let started = Instant::now();
    let (figures, stats) = p
        .step(
            "drill (a): delete the PostgreSQL pod under load",
            delete_the_database_pod(&env, &base, &token, &published),
        )
        .await?;
    record(
        &env,
        "database-pod-deleted",
        started,
        Some(&stats),
        Some(figures),
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kubernetes cluster: run e2e/run"]
async fn fault_drills() {
    namespace::run("fault-drills", drills).await;
}

#[test]
fn migrate_logs_are_read() {
    assert_eq!(
        applied_in("postgres: applied migrations [20251121000001, 20261201000001]"),
        Some(vec![20251121000001, 20261201000001])
    );
    assert_eq!(
        applied_in("postgres: schema is current; nothing to apply"),
        Some(vec![])
    );
    assert_eq!(applied_in("error: applying migrations: timeout"), None);
}
