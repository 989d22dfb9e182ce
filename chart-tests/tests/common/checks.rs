//! The checks behind the tests of manifests.rs, as functions over one render, so that a test can also prove
//! that a check catches what it is meant to.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Container, PodSpec, Secret};
use serde_json::Value;

use super::{Render, pod_templates, renders};

pub fn all_containers(spec: &PodSpec) -> impl Iterator<Item = (&'static str, &Container)> {
    spec.init_containers
        .iter()
        .flatten()
        .map(|c| ("init container", c))
        .chain(spec.containers.iter().map(|c| ("container", c)))
}

/// Pod Security "restricted" violations (plus the project's read-only root rule) of a render's pods.
pub fn restricted_problems(r: &Render) -> (usize, Vec<String>) {
    let mut problems = Vec::new();
    let mut checked = 0;
    for pod in pod_templates(r) {
        let at = format!("{} ({})", pod.workload, r.id());
        let spec = &pod.spec;
        let psc = spec.security_context.clone().unwrap_or_default();
        for (flag, set) in [
            ("hostNetwork", spec.host_network),
            ("hostPID", spec.host_pid),
            ("hostIPC", spec.host_ipc),
        ] {
            if set == Some(true) {
                problems.push(format!("{at}: {flag} is true"));
            }
        }
        for v in spec.volumes.iter().flatten() {
            if v.host_path.is_some() {
                problems.push(format!("{at}: volume {} is a hostPath", v.name));
            }
        }
        if spec.automount_service_account_token != Some(false) {
            problems.push(format!("{at}: automountServiceAccountToken is not false"));
        }
        if psc.run_as_user == Some(0) {
            problems.push(format!("{at}: pod runAsUser is 0"));
        }
        let pod_seccomp = psc.seccomp_profile.as_ref().map(|p| p.type_.clone());
        for (role, c) in all_containers(spec) {
            checked += 1;
            let at = format!("{at} {role} {}", c.name);
            let sc = c.security_context.clone().unwrap_or_default();
            if sc.allow_privilege_escalation != Some(false) {
                problems.push(format!("{at}: allowPrivilegeEscalation is not false"));
            }
            if sc.privileged == Some(true) {
                problems.push(format!("{at}: privileged"));
            }
            let caps = sc.capabilities.clone().unwrap_or_default();
            if !caps.drop.iter().flatten().any(|d| d == "ALL") {
                problems.push(format!("{at}: capabilities do not drop ALL"));
            }
            if let Some(add) = caps
                .add
                .as_ref()
                .filter(|a| a.iter().any(|c| c != "NET_BIND_SERVICE"))
            {
                problems.push(format!("{at}: adds capabilities {add:?}"));
            }
            if sc.run_as_non_root.or(psc.run_as_non_root) != Some(true) {
                problems.push(format!("{at}: runAsNonRoot is not true (container or pod)"));
            }
            if sc.run_as_user == Some(0) {
                problems.push(format!("{at}: runAsUser is 0"));
            }
            let seccomp = sc
                .seccomp_profile
                .as_ref()
                .map(|p| p.type_.clone())
                .or(pod_seccomp.clone());
            if !matches!(seccomp.as_deref(), Some("RuntimeDefault" | "Localhost")) {
                problems.push(format!(
                    "{at}: seccompProfile is {seccomp:?}, not RuntimeDefault/Localhost"
                ));
            }
            // Beyond the standard, the project's own rule: nothing writes to the image.
            if sc.read_only_root_filesystem != Some(true) {
                problems.push(format!("{at}: readOnlyRootFilesystem is not true"));
            }
        }
    }
    (checked, problems)
}

pub type Labels = BTreeMap<String, String>;
/// chart -> `Kind/name` -> selector labels
pub type Selectors = BTreeMap<String, BTreeMap<String, Labels>>;

/// Selector labels per chart and workload, over every values file of the chart.
pub fn current_selectors() -> Result<Selectors, Vec<String>> {
    let mut by_chart: Selectors = BTreeMap::new();
    let mut problems = Vec::new();
    for r in renders() {
        for pod in pod_templates(r) {
            let Some(selector) = pod.selector.clone() else {
                continue;
            };
            let at = format!("{} ({})", pod.workload, r.id());
            if selector.is_empty() {
                problems.push(format!("{at}: empty selector"));
            }
            for (k, v) in &selector {
                if pod.labels.get(k) != Some(v) {
                    problems.push(format!("{at}: pod template lacks selector label {k}={v}"));
                }
            }
            let known = by_chart.entry(r.chart.clone()).or_default();
            match known.get(&pod.workload) {
                Some(prev) if prev != &selector => problems.push(format!(
                    "{at}: selector {selector:?} differs from another values file's {prev:?}"
                )),
                _ => {
                    known.insert(pod.workload.clone(), selector);
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(by_chart)
    } else {
        Err(problems)
    }
}

/// Every string of a document, except inside Secrets.
pub fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

pub fn secret_values(r: &Render) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for doc in r.of_kind("Secret") {
        let s: Secret = serde_json::from_value(doc.clone()).expect("Secret");
        out.extend(s.string_data.unwrap_or_default().into_values());
        out.extend(
            s.data
                .unwrap_or_default()
                .into_values()
                .map(|b| String::from_utf8_lossy(&b.0).into_owned()),
        );
    }
    out
}

pub fn check_no_secret_material(
    r: &Render,
    secrets: &BTreeSet<String>,
    problems: &mut Vec<String>,
) {
    for doc in r.docs.iter().filter(|d| d["kind"] != "Secret") {
        let what = format!(
            "{}/{} ({})",
            doc["kind"].as_str().unwrap_or("?"),
            doc["metadata"]["name"].as_str().unwrap_or("?"),
            r.id()
        );
        let mut all = Vec::new();
        strings(doc, &mut all);
        for s in &all {
            if let Some(secret) = secrets
                .iter()
                .find(|secret| secret.len() >= 6 && s.contains(secret.as_str()))
            {
                problems.push(format!("{what} contains the Secret value {secret:?}"));
            }
        }
        if doc["kind"] == "ConfigMap" {
            let cm: ConfigMap = serde_json::from_value(doc.clone()).expect("ConfigMap");
            for (key, text) in cm.data.unwrap_or_default() {
                let Ok(parsed) = serde_norway::from_str::<Value>(&text) else {
                    continue;
                };
                let mut keys = Vec::new();
                collect_keys(&parsed, &mut keys);
                for k in keys {
                    if [
                        "password",
                        "token",
                        "redis_password",
                        "requirepass",
                        "secret",
                    ]
                    .contains(&k.as_str())
                    {
                        problems.push(format!("{what} data {key}: key `{k}` holds a credential inline (use a *_file key)"));
                    }
                }
            }
        }
    }
}

pub fn collect_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            collect_keys(x, out)
        }),
        Value::Array(a) => a.iter().for_each(|x| collect_keys(x, out)),
        _ => {}
    }
}

pub fn seconds(duration: &str) -> i64 {
    let (n, unit) = duration.split_at(
        duration
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(duration.len()),
    );
    let n: i64 = n
        .parse()
        .unwrap_or_else(|_| panic!("duration {duration:?}"));
    match unit {
        "s" => n,
        "m" => n * 60,
        "ms" => (n + 999) / 1000,
        _ => panic!("unexpected duration {duration:?}"),
    }
}
