//! Checks of the rendered manifests of every chart × values file (see common/mod.rs for the matrix).
//!
//! * restricted Pod Security settings on every pod and container (Deployments, StatefulSets, hook Jobs, test Pods);
//! * probes on long-running containers, resources on every container;
//! * selector labels of every workload equal to the committed golden (they are immutable: a change breaks
//!   `helm upgrade` from the previous chart version);
//! * no secret material outside Secrets (ConfigMaps, env values, args, annotations);
//! * config changes roll the pods (checksum annotations), the grace period covers the server's shutdown, an
//!   HPA-managed Deployment has no `replicas`, every Service selects pods.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use common::checks::{
    all_containers, check_no_secret_material, current_selectors, restricted_problems, seconds,
    secret_values,
};
use common::{Render, pod_templates, render_with, renders, repo_root};
use k8s_openapi::api::core::v1::Service;
use serde_json::{Value, json};

fn report(problems: Vec<String>, what: &str) {
    assert!(
        problems.is_empty(),
        "{} {what}:\n  - {}",
        problems.len(),
        problems.join("\n  - ")
    );
}

#[test]
fn every_pod_meets_the_restricted_pod_security_standard() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for r in renders() {
        let (n, p) = restricted_problems(r);
        checked += n;
        problems.extend(p);
    }
    assert!(checked > 0, "no container found in any render");
    report(problems, "Pod Security violations");
}

/// The check itself catches what it is meant to: a weakened security context is reported.
#[test]
fn the_pod_security_check_catches_violations() {
    let docs = render_with(
        "mcp-registry",
        &[],
        &[
            "containerSecurityContext.allowPrivilegeEscalation=true",
            "podSecurityContext.runAsNonRoot=false",
            "containerSecurityContext.runAsNonRoot=false",
        ],
    )
    .expect("render");
    let r = Render {
        chart: "mcp-registry".into(),
        values: "weakened".into(),
        docs,
    };
    let (_, problems) = restricted_problems(&r);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("allowPrivilegeEscalation")),
        "not caught: {problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("runAsNonRoot")),
        "not caught: {problems:?}"
    );
}

#[test]
fn containers_have_probes_and_resources() {
    let mut problems = Vec::new();
    for r in renders() {
        for pod in pod_templates(r) {
            let at = format!("{} ({})", pod.workload, r.id());
            for (role, c) in all_containers(&pod.spec) {
                let at = format!("{at} {role} {}", c.name);
                let res = c.resources.clone().unwrap_or_default();
                let requests = res.requests.unwrap_or_default();
                let limits = res.limits.unwrap_or_default();
                for k in ["cpu", "memory"] {
                    if !requests.contains_key(k) {
                        problems.push(format!("{at}: no {k} request"));
                    }
                }
                if !limits.contains_key("memory") {
                    problems.push(format!("{at}: no memory limit"));
                }
            }
            if pod.long_running {
                for c in &pod.spec.containers {
                    let at = format!("{at} container {}", c.name);
                    if c.readiness_probe.is_none() {
                        problems.push(format!("{at}: no readiness probe"));
                    }
                    if c.liveness_probe.is_none() {
                        problems.push(format!("{at}: no liveness probe"));
                    }
                    if c.startup_probe.is_none() {
                        problems.push(format!("{at}: no startup probe"));
                    }
                }
            }
        }
    }
    report(problems, "missing probes/resources");
}

fn chart_version(chart: &str) -> String {
    let text = fs::read_to_string(repo_root().join("charts").join(chart).join("Chart.yaml"))
        .expect("Chart.yaml");
    text.lines()
        .find_map(|l| l.strip_prefix("version:"))
        .map(|v| v.trim().trim_matches('"').to_string())
        .expect("version")
}

/// The golden (golden/selector-labels.json) holds, per chart and workload, the selector labels and the chart
/// version that introduced them. Selectors of Deployments and StatefulSets are immutable: an upgrade from any
/// earlier chart version fails if they change. New workloads are added with UPDATE_GOLDEN=1; existing entries
/// are never rewritten.
#[test]
fn selector_labels_match_the_golden_of_previous_chart_versions() {
    let path = repo_root().join("chart-tests/golden/selector-labels.json");
    let current = current_selectors().unwrap_or_else(|p| {
        report(p, "selector problems");
        unreachable!()
    });
    let mut golden: Value = fs::read_to_string(&path)
        .map(|t| serde_json::from_str(&t).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .unwrap_or_else(|_| json!({}));
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut problems = Vec::new();
    let mut added = Vec::new();
    for (chart, workloads) in &current {
        for (workload, selector) in workloads {
            let entry = &golden[chart][workload];
            if entry.is_null() {
                if update {
                    added.push(format!("{chart} {workload}"));
                    let obj = golden.as_object_mut().expect("golden is an object");
                    let chart_obj = obj.entry(chart.clone()).or_insert_with(|| json!({}));
                    chart_obj[workload] =
                        json!({ "since": chart_version(chart), "selector": selector });
                } else {
                    problems.push(format!(
                        "charts/{chart} {workload} is not in {} — a new workload? run `UPDATE_GOLDEN=1 cargo test -p \
                         chart-tests` and commit the file",
                        path.display()
                    ));
                }
                continue;
            }
            let want: BTreeMap<String, String> = serde_json::from_value(entry["selector"].clone())
                .expect("golden selector is a string map");
            if &want != selector {
                problems.push(format!(
                    "charts/{chart} {workload}: selector {selector:?} != {want:?} of chart version {} — selectors are \
                     immutable, `helm upgrade` from earlier versions would fail (the golden is never rewritten)",
                    entry["since"]
                ));
            }
        }
    }
    if let Some(obj) = golden.as_object() {
        for (chart, workloads) in obj {
            for workload in workloads.as_object().into_iter().flat_map(|w| w.keys()) {
                if current.get(chart).and_then(|w| w.get(workload)).is_none() {
                    problems.push(format!(
                        "charts/{chart} {workload} of the golden is rendered by no values file: renamed or removed? \
                         (remove it from the golden only if that is intended)"
                    ));
                }
            }
        }
    }
    if update && !added.is_empty() {
        fs::write(
            &path,
            serde_json::to_string_pretty(&golden).expect("json") + "\n",
        )
        .expect("writing the golden");
        eprintln!("added to {}: {}", path.display(), added.join(", "));
    }
    report(problems, "selector label differences");
}

#[test]
fn no_secret_material_outside_secrets() {
    let mut problems = Vec::new();
    // The values files of the matrix: whatever is inline in a Secret appears nowhere else.
    for r in renders() {
        check_no_secret_material(r, &secret_values(r), &mut problems);
    }
    // Every credential set to a sentinel, every store and every consumer of credentials enabled.
    let sentinel = "SENTINEL-c0ffee";
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "mcp-registry",
            [
                "database.backend=postgres",
                "database.postgres.host=db",
                "database.postgres.migrationUser=owner",
                "migrations.mode=job",
                "redis.mode=external",
                "redis.url=redis://cache:6379/0",
                "auth.admin.enabled=true",
                "auth.tokensFile=true",
                "secrets.postgresPassword.value=SENTINEL-c0ffee-pg",
                "secrets.postgresMigrationPassword.value=SENTINEL-c0ffee-owner",
                "secrets.redisPassword.value=SENTINEL-c0ffee-redis",
                "secrets.adminToken.value=SENTINEL-c0ffee-admin",
                "secrets.tokensFile.value=SENTINEL-c0ffee-tokens",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        (
            "mcp-registry",
            [
                "database.backend=mongodb",
                "database.mongodb.host=mongo",
                "secrets.mongodbPassword.value=SENTINEL-c0ffee-mongo",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        (
            "mcp-registry-stack",
            [
                "credentials.create=true",
                "mongodb.enabled=true",
                "mcp-registry.database.backend=postgres",
                "credentials.values.postgresAdminPassword=SENTINEL-c0ffee-1",
                "credentials.values.postgresPassword=SENTINEL-c0ffee-2",
                "credentials.values.postgresMigrationPassword=SENTINEL-c0ffee-3",
                "credentials.values.redisPassword=SENTINEL-c0ffee-4",
                "credentials.values.mongodbRootPassword=SENTINEL-c0ffee-5",
                "credentials.values.mongodbPassword=SENTINEL-c0ffee-6",
                "credentials.values.adminToken=SENTINEL-c0ffee-7",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        (
            "postgresql",
            [
                "auth.adminPassword=SENTINEL-c0ffee-a",
                "auth.password=SENTINEL-c0ffee-b",
                "auth.migrationPassword=SENTINEL-c0ffee-c",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        ("redis", vec!["auth.password=SENTINEL-c0ffee-r".to_string()]),
        (
            "mongodb",
            [
                "auth.rootPassword=SENTINEL-c0ffee-m",
                "auth.password=SENTINEL-c0ffee-n",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
    ];
    for (chart, set) in cases {
        let set_refs: Vec<&str> = set.iter().map(String::as_str).collect();
        let docs = render_with(chart, &[], &set_refs)
            .unwrap_or_else(|e| panic!("helm template charts/{chart} --set {set:?}:\n{e}"));
        let r = Render {
            chart: chart.to_string(),
            values: format!("--set {}", set.join(",")),
            docs,
        };
        let secrets = secret_values(&r);
        let expected: BTreeSet<&str> = set
            .iter()
            .filter_map(|s| s.split_once('=').map(|(_, v)| v))
            .filter(|v| v.starts_with(sentinel))
            .collect();
        for want in &expected {
            if !secrets.iter().any(|s| s == want) {
                problems.push(format!(
                    "{}: the inline credential {want:?} is in no Secret",
                    r.id()
                ));
            }
        }
        let sentinels: BTreeSet<String> = [sentinel.to_string()].into();
        check_no_secret_material(&r, &sentinels, &mut problems);
    }
    report(problems, "secret leaks");
}

fn registry_deployment(docs: &[Value]) -> &Value {
    docs.iter()
        .find(|d| {
            d["kind"] == "Deployment"
                && d["metadata"]["labels"]["app.kubernetes.io/name"] == "mcp-registry"
        })
        .expect("the registry's Deployment")
}

#[test]
fn config_changes_roll_the_pods() {
    let a = render_with("mcp-registry", &[], &[]).expect("render");
    let b = render_with("mcp-registry", &[], &["config.log.level=debug"]).expect("render");
    let c = render_with(
        "mcp-registry",
        &[],
        &["auth.admin.enabled=true", "secrets.adminToken.value=one"],
    )
    .expect("render");
    let d = render_with(
        "mcp-registry",
        &[],
        &["auth.admin.enabled=true", "secrets.adminToken.value=two"],
    )
    .expect("render");
    let ann = |docs: &[Value], k: &str| {
        registry_deployment(docs)["spec"]["template"]["metadata"]["annotations"][k].clone()
    };
    assert!(
        ann(&a, "checksum/config").is_string(),
        "no checksum/config annotation"
    );
    assert_ne!(
        ann(&a, "checksum/config"),
        ann(&b, "checksum/config"),
        "a config change does not change checksum/config"
    );
    assert!(
        ann(&c, "checksum/secret").is_string(),
        "no checksum/secret annotation with an inline credential"
    );
    assert_ne!(
        ann(&c, "checksum/secret"),
        ann(&d, "checksum/secret"),
        "an inline credential change does not roll the pods"
    );
}

/// Every config.yaml a chart renders (the server's and the migrations') is one the server accepts: its
/// parser refuses unknown keys and wrong types, so a chart value mapped to a key the server does not have, or
/// a duration it cannot read, fails here and not in a crash-looping pod.
#[test]
fn every_rendered_config_is_accepted_by_the_server() {
    use mcp_registry::config::{Config, Overrides};
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for r in renders() {
        for cm in r.of_kind("ConfigMap") {
            let Some(map) = cm["data"].as_object() else {
                continue;
            };
            for (key, text) in map.iter().filter(|(k, _)| k.ends_with("config.yaml")) {
                let path = dir.path().join("config.yaml");
                std::fs::write(&path, text.as_str().unwrap_or_default()).unwrap();
                checked += 1;
                if let Err(e) = Config::load_from(Some(&path), &[], &Overrides::default()) {
                    problems.push(format!(
                        "{} {}/{key}: {e:#}",
                        r.id(),
                        cm["metadata"]["name"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
    }
    assert!(checked > 0, "no config.yaml rendered");
    report(problems, "configs the server refuses");
}

#[test]
fn termination_grace_covers_the_servers_shutdown() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for r in renders() {
        let Some(cm) = r.of_kind("ConfigMap").find(|d| {
            d["data"]["config.yaml"]
                .as_str()
                .is_some_and(|c| c.contains("shutdown_grace"))
        }) else {
            continue;
        };
        let config: Value = serde_norway::from_str(cm["data"]["config.yaml"].as_str().unwrap())
            .expect("config.yaml parses");
        let drain = seconds(
            config["server"]["shutdown_drain"]
                .as_str()
                .expect("shutdown_drain"),
        );
        let grace = seconds(
            config["server"]["shutdown_grace"]
                .as_str()
                .expect("shutdown_grace"),
        );
        for pod in pod_templates(r)
            .into_iter()
            .filter(|p| p.kind == "Deployment")
        {
            checked += 1;
            let sleep = pod.spec.containers[0]
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.as_ref())
                .and_then(|h| h.sleep.as_ref())
                .map_or(0, |s| s.seconds);
            let tgp = pod.termination_grace.unwrap_or(30);
            if tgp <= drain + grace + sleep {
                problems.push(format!(
                    "{} ({}): terminationGracePeriodSeconds {tgp} <= drain {drain} + grace {grace} + preStop sleep {sleep}",
                    pod.workload,
                    r.id()
                ));
            }
        }
    }
    assert!(checked > 0, "no registry Deployment found");
    report(problems, "grace period problems");
}

#[test]
fn hpa_managed_deployments_have_no_replicas_and_services_select_pods() {
    let mut problems = Vec::new();
    for r in renders() {
        let pods = pod_templates(r);
        for hpa in r.of_kind("HorizontalPodAutoscaler") {
            let target = format!(
                "Deployment/{}",
                hpa["spec"]["scaleTargetRef"]["name"]
                    .as_str()
                    .unwrap_or_default()
            );
            match pods.iter().find(|p| p.workload == target) {
                None => problems.push(format!(
                    "{}: HPA targets {target}, which is not rendered",
                    r.id()
                )),
                Some(p) if p.replicas.is_some() => {
                    problems.push(format!("{}: {target} sets replicas under an HPA", r.id()))
                }
                _ => {}
            }
        }
        for doc in r.of_kind("Service") {
            let svc: Service = serde_json::from_value(doc.clone()).expect("Service");
            let name = svc.metadata.name.clone().unwrap_or_default();
            let selector = svc.spec.and_then(|s| s.selector).unwrap_or_default();
            let long_running = pods.iter().filter(|p| p.long_running);
            if selector.is_empty()
                || !long_running
                    .clone()
                    .any(|p| selector.iter().all(|(k, v)| p.labels.get(k) == Some(v)))
            {
                problems.push(format!(
                    "{}: Service {name} selects no Deployment/StatefulSet pods ({selector:?})",
                    r.id()
                ));
            }
        }
    }
    report(problems, "HPA/Service problems");
}

/// An exchange issues registry tokens: without a signing key the render fails and says which credential;
/// the kubernetes preset mounts a token into the server container only (to read the cluster's JWKS; the
/// pod's automount stays off) and opens HTTPS egress.
#[test]
fn token_exchanges_need_a_signing_key_and_the_kubernetes_preset_reaches_the_api_server() {
    let err = render_with("mcp-registry", &[], &["auth.exchanges.none.enabled=true"]).unwrap_err();
    assert!(err.contains("secrets.jwtSigningKey"), "{err}");
    let docs = render_with(
        "mcp-registry",
        &[],
        &[
            "auth.exchanges.kubernetes.enabled=true",
            "secrets.jwtSigningKey.existingSecret=registry-jwt",
        ],
    )
    .expect("render");
    let pod = &registry_deployment(&docs)["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount"),
        "{mounts:?}"
    );
    let np = docs
        .iter()
        .find(|d| d["kind"] == "NetworkPolicy" && d["metadata"]["name"] == "reg-mcp-registry")
        .or_else(|| docs.iter().find(|d| d["kind"] == "NetworkPolicy"))
        .expect("a NetworkPolicy");
    let ports: Vec<i64> = np["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["ports"].as_array().cloned().unwrap_or_default())
        .filter_map(|p| p["port"].as_i64())
        .collect();
    assert!(ports.contains(&443) && ports.contains(&6443), "{ports:?}");
    let plain = render_with("mcp-registry", &[], &[]).expect("render");
    let volumes = &registry_deployment(&plain)["spec"]["template"]["spec"]["volumes"];
    assert!(
        !volumes.to_string().contains("serviceAccountToken"),
        "{volumes}"
    );
}
