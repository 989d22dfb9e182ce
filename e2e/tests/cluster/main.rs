//! The local cluster does what the charts need, checked before the chart scenarios (`tests/stack.rs`) so a
//! broken cluster fails here with a precise message rather than as a confusing chart failure. Every test is
//! #[ignore]d (`cargo test --workspace` has no cluster); `e2e/run` runs them with `-- --ignored` against the
//! local cluster (e2e/local-cluster), each in a namespace of its own:
//!
//! - Pod Security `restricted` is enforced (a privileged pod is refused at admission);
//! - a Deployment and its Service become available; from a pod, cluster DNS resolves `kubernetes.default`
//!   and the Service by full and short name, answers NXDOMAIN for an outside name (locally: CoreDNS has no
//!   upstream), and the Service answers by name; the host reaches the Service's ClusterIP;
//! - each Helm (`E2E_SMOKE_HELMS`, colon-separated binaries; default `$HELM`) installs, upgrades and rolls
//!   back a small chart with its readiness wait, each result checked through the Service;
//! - the locally built images behave as the official ones the stack chart is written for: postgres and
//!   redis as uid 999 under `restricted` (init scripts, password file, server arguments), both dropping to
//!   uid 999 when started as root, and the registry image running as a non-root user on SQLite in `/data`.
//!
//! Images (built and imported by `e2e/local-cluster/up`): `E2E_PROBE_IMAGE` (default `local/probe:1`),
//! `E2E_POSTGRES_IMAGE` (`local/postgres:15`), `E2E_REDIS_IMAGE` (`local/redis:7`); the registry image is
//! the suite's `mcp-registry:local`.

use e2e::helm::{Helm, Release};
use e2e::namespace::{self, PodSecurity, TestEnv};
use e2e::pods::{self, Want};
use e2e::wait::{self, Check};
use e2e::{repo_root, rollout};
use k8s_openapi::api::core::v1::{Pod, Service};
use kube::Api;
use kube::api::PostParams;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(180);

fn image(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.into())
}

fn probe_image() -> String {
    image("E2E_PROBE_IMAGE", "local/probe:1")
}

/// The restricted profile's pod- and container-level settings.
fn restricted_pod(uid: u32) -> Value {
    json!({"runAsNonRoot": true, "runAsUser": uid, "runAsGroup": uid, "fsGroup": uid,
           "seccompProfile": {"type": "RuntimeDefault"}})
}

fn restricted_container() -> Value {
    json!({"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
           "capabilities": {"drop": ["ALL"]}})
}

/// A probe container running `args` (see e2e/local-cluster/probe).
fn probe(name: &str, args: &[&str]) -> Value {
    json!({"name": name, "image": probe_image(), "imagePullPolicy": "Never", "args": args,
           "securityContext": restricted_container()})
}

fn service(name: &str, port: u16, target: u16) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
           "spec": {"selector": {"app": name}, "ports": [{"port": port, "targetPort": target}]}})
}

/// What the Service's ClusterIP answers from the host, polled until it contains `expect`: the ClusterIP is
/// routed onto the cluster bridge and DNATed by kube-proxy, which programs it a moment after the objects
/// exist (and old pods answer briefly after an upgrade).
async fn service_says(env: &TestEnv, svc: &str, expect: &str) -> anyhow::Result<()> {
    let api: Api<Service> = Api::namespaced(env.cluster.client.clone(), &env.ns);
    let ip = api
        .get(svc)
        .await?
        .spec
        .and_then(|s| s.cluster_ip)
        .ok_or_else(|| anyhow::anyhow!("Service {svc} has no ClusterIP"))?;
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?;
    let url = format!("http://{ip}/");
    wait::until(
        &format!("{url} (Service {svc}) to answer {expect:?}"),
        TIMEOUT,
        Duration::from_millis(500),
        || {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let body = http.get(&url).send().await?.text().await?;
                Ok(if body.contains(expect) {
                    Check::Done(())
                } else {
                    Check::Pending(format!("answered {:?}", body.trim()))
                })
            }
        },
    )
    .await
}

async fn restricted_admission(env: TestEnv) -> anyhow::Result<()> {
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": "privileged"},
        "spec": {"containers": [{"name": "c", "image": probe_image(), "imagePullPolicy": "Never",
                                 "securityContext": {"privileged": true}}]}
    }))?;
    let api: Api<Pod> = Api::namespaced(env.cluster.client.clone(), &env.ns);
    match api.create(&PostParams::default(), &pod).await {
        Ok(_) => anyhow::bail!(
            "a privileged pod was admitted into {} (enforce=restricted)",
            env.ns
        ),
        Err(kube::Error::Api(e)) if e.message.contains("violates PodSecurity \"restricted") => {
            env.progress
                .log(format!("refused as expected: {}", e.message));
            Ok(())
        }
        Err(e) => anyhow::bail!("the privileged pod was refused for another reason: {e}"),
    }
}

async fn deployment_service_and_dns(env: TestEnv) -> anyhow::Result<()> {
    let (client, ns, p) = (&env.cluster.client, env.ns.as_str(), &env.progress);
    let web = json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
          "template": {"metadata": {"labels": {"app": "web"}},
            "spec": {"terminationGracePeriodSeconds": 2, "securityContext": restricted_pod(65532),
              "containers": [{
                "name": "web", "image": probe_image(), "imagePullPolicy": "Never",
                "args": ["serve", "-addr", ":8080", "-text", "smoke-web"],
                "ports": [{"containerPort": 8080}],
                "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1},
                "securityContext": restricted_container()}]}}}
    });
    pods::create(client, ns, &[web, service("web", 80, 8080)]).await?;
    p.step(
        "Deployment web (2 replicas) available",
        rollout::wait_all(client, ns, 1, TIMEOUT, p),
    )
    .await?;
    // Each init container is one check; the pod succeeds only if all of them do, in order.
    let fqdn = format!("web.{ns}.svc.cluster.local");
    let dns = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dns-client"},
        "spec": {"restartPolicy": "Never", "securityContext": restricted_pod(65532),
          "initContainers": [
            probe("api", &["resolve", "-timeout", "60s", "kubernetes.default.svc.cluster.local"]),
            probe("svc-fqdn", &["resolve", "-timeout", "60s", &fqdn]),
            probe("outside-nxdomain", &["resolve", "-timeout", "20s", "-expect-nxdomain", "registry.example.com"]),
            probe("get-short-name", &["get", "-timeout", "60s", "-expect", "smoke-web", "http://web/"]),
          ],
          "containers": [probe("get-fqdn", &["get", "-timeout", "60s", "-expect", "smoke-web", &format!("http://{fqdn}/")])]}
    });
    pods::create(client, ns, &[dns]).await?;
    p.step(
        "from a pod: DNS of kubernetes.default and web (FQDN, short name), local NXDOMAIN outside, web by name",
        pods::wait_for(client, ns, "dns-client", Want::Succeeded, TIMEOUT),
    )
    .await?;
    for c in [
        "api",
        "svc-fqdn",
        "outside-nxdomain",
        "get-short-name",
        "get-fqdn",
    ] {
        let log = pods::logs(client, ns, "dns-client", c).await?;
        p.log(format!("  {c}: {}", log.replace('\n', " ")));
    }
    p.step(
        "Service ClusterIP from the host",
        service_says(&env, "web", "smoke-web"),
    )
    .await
}

/// The Helm binaries to check: `E2E_SMOKE_HELMS` (colon-separated paths), else `$HELM`.
fn smoke_helms() -> Vec<PathBuf> {
    match std::env::var("E2E_SMOKE_HELMS") {
        Ok(list) if !list.is_empty() => std::env::split_paths(&list).collect(),
        _ => vec![std::env::var_os("HELM").map_or_else(|| "helm".into(), PathBuf::from)],
    }
}

async fn helm_cycles(env: TestEnv) -> anyhow::Result<()> {
    for bin in smoke_helms() {
        let c = &env.cluster;
        let helm = Helm::at(bin, c.kubeconfig.as_deref(), c.context.as_deref()).await?;
        let name = format!("smoke-helm{}", helm.major);
        let mut rel = Release {
            name: name.clone(),
            namespace: env.ns.clone(),
            chart: repo_root().join("e2e/local-cluster/smoke-chart"),
            values: Vec::new(),
            set: vec![("text".into(), "v1".into())],
        };
        let outer = TIMEOUT + Duration::from_secs(30);
        let label = format!("helm {}", helm.version);
        env.progress
            .step(&format!("{label}: install --wait, answers v1"), async {
                helm.run(&helm.install_args(&rel, TIMEOUT), outer).await?;
                service_says(&env, &name, "v1").await
            })
            .await?;
        rel.set = vec![("text".into(), "v2".into())];
        env.progress
            .step(&format!("{label}: upgrade --wait, answers v2"), async {
                helm.run(&helm.upgrade_args(&rel, TIMEOUT, false), outer)
                    .await?;
                service_says(&env, &name, "v2").await
            })
            .await?;
        env.progress
            .step(&format!("{label}: rollback --wait, answers v1"), async {
                helm.run(&helm.rollback_args(&rel, 1, TIMEOUT), outer)
                    .await?;
                service_says(&env, &name, "v1").await
            })
            .await?;
        let history = helm.history(&rel).await?;
        anyhow::ensure!(
            history.len() == 3,
            "{label}: history of {name} has {} revisions, expected 3: {history:?}",
            history.len()
        );
        helm.run(&helm.uninstall_args(&rel, TIMEOUT), outer).await?;
    }
    Ok(())
}

/// Runs `pod` (already created) to completion and returns its log, one line per output line.
async fn output_of(env: &TestEnv, pod: &str, container: &str) -> anyhow::Result<Vec<String>> {
    let (client, ns) = (&env.cluster.client, env.ns.as_str());
    pods::wait_for(client, ns, pod, Want::Succeeded, TIMEOUT).await?;
    let log = pods::logs(client, ns, pod, container).await?;
    Ok(log.lines().map(str::to_owned).collect())
}

async fn expect_uid(env: &TestEnv, pod: &str, uid: u32) -> anyhow::Result<()> {
    let got = pods::uid_of_pid1(&env.cluster.client, &env.ns, pod).await?;
    anyhow::ensure!(
        got == uid,
        "{pod}: the main process runs as uid {got}, expected {uid}"
    );
    Ok(())
}

mod images;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster: run e2e/run"]
async fn pod_security_restricted_is_enforced() {
    namespace::run("cluster-pod-security", restricted_admission).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster: run e2e/run"]
async fn deployment_service_dns_and_cluster_ip() {
    namespace::run("cluster-network", deployment_service_and_dns).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster: run e2e/run"]
async fn helm_install_upgrade_rollback_with_each_helm() {
    namespace::run("cluster-helm", helm_cycles).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster: run e2e/run"]
async fn postgres_image_as_the_stack_runs_it() {
    namespace::run("image-postgres", images::postgres_as_999).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster: run e2e/run"]
async fn redis_image_as_the_stack_runs_it() {
    namespace::run("image-redis", images::redis_as_999).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster: run e2e/run"]
async fn images_started_as_root_drop_to_uid_999() {
    namespace::run_in(
        "image-root-start",
        PodSecurity::Unlabelled,
        images::started_as_root,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the local cluster: run e2e/run"]
async fn registry_image_runs_restricted_on_sqlite() {
    namespace::run("image-registry", images::registry_on_sqlite).await;
}

/// The image the suite built (`e2e::images::prepare`, in the namespace guard's setup).
fn registry_image() -> String {
    e2e::images::image(e2e::images::TAG)
}
