//! Publishing from inside the cluster with Kubernetes service-account tokens (the `kubernetes` exchange
//! preset): a pod with a projected token of audience `mcp-registry` exchanges it at `/v0/auth/oidc` and
//! publishes under `io.k8s.<its namespace>/*` (`mcp-registry publish --oidc-token-file`, the registry
//! image itself, no shell); a pod of another namespace trying the same name is refused with 403. The
//! registry verifies the tokens with the API server's JWKS, read with its own projected token.
//!
//! #[ignore]d like the other cluster tests: `e2e/run` runs it against the local cluster.

use e2e::namespace::{self, TestEnv};
use e2e::pods;
use e2e::stack::{install, release};
use e2e::unique_suffix;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The registry's Service by its cluster name (the intruder runs in another namespace).
fn registry_url(ns: &str) -> String {
    format!("http://reg-mcp-registry.{ns}.svc:8080")
}

fn publisher_pod(name: &str, server_name: &str, registry: &str) -> Vec<Value> {
    let doc = json!({
        "$schema": e2e::registry::SCHEMA, "name": server_name,
        "description": "published by a Kubernetes Job", "version": "1.0.0",
    });
    vec![
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name},
               "data": {"server.json": doc.to_string()}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
        "spec": {
          "restartPolicy": "Never", "automountServiceAccountToken": false,
          "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
          "volumes": [
            {"name": "doc", "configMap": {"name": name}},
            {"name": "registry-token", "projected": {"sources": [
              {"serviceAccountToken": {"audience": "mcp-registry", "expirationSeconds": 600, "path": "token"}}]}},
          ],
          "containers": [{
            "name": "publish", "image": "mcp-registry:local", "imagePullPolicy": "Never",
            "args": ["publish", "--registry", registry, "--oidc-token-file", "/var/run/registry/token",
                     "/etc/publish/server.json"],
            "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true,
                                "capabilities": {"drop": ["ALL"]}},
            "volumeMounts": [
              {"name": "doc", "mountPath": "/etc/publish", "readOnly": true},
              {"name": "registry-token", "mountPath": "/var/run/registry", "readOnly": true},
            ],
          }],
        }}),
    ]
}

/// Waits until the pod ended (Succeeded or Failed) and returns (succeeded, its log).
async fn outcome(env: &TestEnv, ns: &str, name: &str) -> anyhow::Result<(bool, String)> {
    let api: Api<Pod> = Api::namespaced(env.cluster.client.clone(), ns);
    let started = Instant::now();
    loop {
        let phase = api
            .get_opt(name)
            .await?
            .and_then(|p| p.status)
            .and_then(|s| s.phase)
            .unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" {
            let log = pods::logs(&env.cluster.client, ns, name, "publish").await?;
            return Ok((phase == "Succeeded", log));
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "pod {ns}/{name} still {phase:?} after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn service_account_publish(env: TestEnv) -> anyhow::Result<()> {
    let client = &env.cluster.client;
    let p = env.progress.clone();
    // The signing key of registry tokens, as an operator would provide it.
    pods::create(
        client,
        &env.ns,
        &[
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "registry-jwt"},
                 "stringData": {"jwt-signing-key": "5a".repeat(32)}}),
        ],
    )
    .await?;
    let rel = release(&env, &["service-accounts.yaml"]);
    p.step(
        "install with the kubernetes exchange",
        install(&env, &rel, "postgres", &e2e::stack::POSTGRES_WORKLOADS),
    )
    .await?;

    let own = format!("io.k8s.{}/job-tool", env.ns);
    pods::create(
        client,
        &env.ns,
        &publisher_pod("publisher", &own, &registry_url(&env.ns)),
    )
    .await?;
    let (ok, log) = p
        .step(
            "a pod of the namespace publishes with its token",
            outcome(&env, &env.ns, "publisher"),
        )
        .await?;
    anyhow::ensure!(
        ok && log.contains(&format!("published {own}@1.0.0")),
        "publisher: {log}"
    );

    // Another namespace, same name: its token grants io.k8s.<other>/* only.
    let other = format!("e2e-sa-other-{}", unique_suffix());
    let ns_api: Api<Namespace> = Api::all(client.clone());
    ns_api
        .create(
            &PostParams::default(),
            &namespace::namespace_object(&other, "sa-other", namespace::PodSecurity::Restricted),
        )
        .await?;
    let refused = async {
        pods::create(
            client,
            &other,
            &publisher_pod(
                "intruder",
                &format!("io.k8s.{}/stolen", env.ns),
                &registry_url(&env.ns),
            ),
        )
        .await?;
        outcome(&env, &other, "intruder").await
    }
    .await;
    let _ = ns_api.delete(&other, &DeleteParams::default()).await;
    let (ok, log) = refused?;
    anyhow::ensure!(!ok && log.contains("HTTP 403"), "intruder: {log}");
    p.log(format!(
        "pod of {other} refused: {}",
        log.lines().last().unwrap_or_default()
    ));
    e2e::stack::record(
        &env,
        "service-account-publish",
        Instant::now(),
        None,
        Some(format!(
            "{own} published by a pod's projected token; a pod of another namespace refused with 403"
        )),
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Kubernetes cluster: run e2e/run"]
async fn pods_publish_with_their_service_account_tokens() {
    namespace::run("sa-publish", service_account_publish).await;
}
