//! Rendering of the charts for the tests: every application chart of `charts/` × each of its values files
//! (`ci/*-values.yaml`, plus `values/*.yaml` for the umbrella chart) as `scripts/chart-matrix` lists them
//! (the matrix's one owner, shared with `scripts/check-charts`), rendered once per test binary with
//! `helm template` into k8s-openapi types.

#![allow(dead_code)]

pub mod checks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};
use std::{env, fs};

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, PodSpec};
use serde_json::Value;

pub const RELEASE: &str = "mcp-registry";
pub const NAMESPACE: &str = "mcp-registry";
pub const UMBRELLA: &str = "mcp-registry-stack";

pub fn repo_root() -> PathBuf {
    // Not `env!("CARGO_MANIFEST_DIR")` alone: the build cache is shared between checkouts, and cargo
    // reuses a test binary built in another checkout whose sources have the same content, so the
    // compile-time path may name a clone that is gone. Tests run from inside the repository (cargo sets
    // the working directory to the package; e2e/run changes to the root), so look upwards first.
    let marker = |d: &Path| d.join("charts/mcp-registry/Chart.yaml").is_file();
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.ancestors().find(|d| marker(d)).map(Path::to_path_buf))
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
        })
}

/// KUBERNETES_VERSION of scripts/versions.env, without the `v`.
pub fn kube_version() -> String {
    let path = repo_root().join("scripts/versions.env");
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .find_map(|l| l.strip_prefix("KUBERNETES_VERSION="))
        .map(|v| v.trim().trim_start_matches('v').to_string())
        .unwrap_or_else(|| panic!("no KUBERNETES_VERSION in {}", path.display()))
}

/// The Helm binary: $MCPR_HELM, else `helm` of the project's tool cache ($MCPR_CACHE_DIR/bin, where
/// scripts/install-tools puts it), else PATH. Missing Helm is a failure, never a skip. (Not MCP_REGISTRY_*:
/// that is the server's configuration namespace, and the server refuses unknown keys.)
pub fn helm() -> &'static Path {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        if let Some(p) = env::var_os("MCPR_HELM") {
            let p = PathBuf::from(p);
            assert!(
                p.is_file(),
                "MCPR_HELM={} is not a file: run `scripts/install-tools helm`",
                p.display()
            );
            return p;
        }
        let mut candidates = Vec::new();
        if let Some(cache) = env::var_os("MCPR_CACHE_DIR") {
            candidates.push(PathBuf::from(cache).join("bin/helm"));
        }
        candidates.push(PathBuf::from("/var/cache/mcp-registry/bin/helm"));
        if let Some(xdg) = env::var_os("XDG_CACHE_HOME") {
            candidates.push(PathBuf::from(xdg).join("mcp-registry/bin/helm"));
        }
        if let Some(home) = env::var_os("HOME") {
            candidates.push(PathBuf::from(home).join(".cache/mcp-registry/bin/helm"));
        }
        if let Some(path) = env::var_os("PATH") {
            candidates.extend(env::split_paths(&path).map(|d| d.join("helm")));
        }
        candidates.into_iter().find(|p| p.is_file()).unwrap_or_else(|| {
            panic!(
                "helm not found (looked in $MCPR_HELM, $MCPR_CACHE_DIR/bin, the default tool caches and \
                 PATH): run `scripts/install-tools helm`"
            )
        })
    })
}

/// A private copy of `charts/` (without packaged dependencies) with every dependency built, so the tests
/// never race `scripts/check-charts` or an editor over `charts/*/charts/*.tgz`.
pub struct Workspace {
    pub charts: PathBuf,
    helm_home: PathBuf,
    pub application_charts: Vec<String>,
}

impl Workspace {
    fn helm(&self) -> Command {
        let mut cmd = Command::new(helm());
        cmd.env("HELM_CONFIG_HOME", self.helm_home.join("config"))
            .env("HELM_CACHE_HOME", self.helm_home.join("cache"))
            .env("HELM_DATA_HOME", self.helm_home.join("data"));
        cmd
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("creating {}: {e}", to.display()));
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("reading {}: {e}", from.display())) {
        let entry = entry.expect("directory entry");
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let meta = fs::metadata(&src).unwrap_or_else(|e| panic!("stat {}: {e}", src.display()));
        if meta.is_dir() {
            copy_dir(&src, &dst);
        } else if src.extension().is_some_and(|e| e == "tgz") {
            continue; // packaged dependencies are rebuilt below
        } else {
            fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copying {}: {e}", src.display()));
        }
    }
}

pub fn workspace() -> &'static Workspace {
    static WS: OnceLock<Workspace> = OnceLock::new();
    WS.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("chart-tests");
        // Leftovers of earlier runs (one directory per process).
        if let Ok(entries) = fs::read_dir(&base) {
            for e in entries.flatten() {
                let old = e
                    .metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| SystemTime::now().duration_since(t).ok());
                if old.is_some_and(|age| age > Duration::from_secs(3600)) {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
        let root = base.join(format!("run-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let charts = root.join("charts");
        copy_dir(&repo_root().join("charts"), &charts);
        // Application charts in the matrix's order (library charts have no values file).
        let mut application_charts: Vec<String> = Vec::new();
        for (chart, values) in matrix() {
            if values.is_some() && !application_charts.contains(chart) {
                application_charts.push(chart.clone());
            }
        }
        let ws = Workspace {
            charts,
            helm_home: root.join("helm"),
            application_charts,
        };
        // Library consumers first: the umbrella chart packages them as they are on disk.
        let mut order: Vec<&String> = ws
            .application_charts
            .iter()
            .filter(|c| c.as_str() != UMBRELLA)
            .collect();
        order.extend(
            ws.application_charts
                .iter()
                .filter(|c| c.as_str() == UMBRELLA),
        );
        for chart in order {
            let out = ws
                .helm()
                .args(["dependency", "build", "--skip-refresh"])
                .arg(ws.charts.join(chart))
                .output()
                .unwrap_or_else(|e| panic!("running {}: {e}", helm().display()));
            assert!(
                out.status.success(),
                "helm dependency build charts/{chart} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        ws
    })
}

/// The chart × values-file matrix, from its one owner `scripts/chart-matrix` (also what
/// `scripts/check-charts` runs over): `(chart, values file relative to the repository)`, library charts
/// with `None`.
pub fn matrix() -> &'static [(String, Option<String>)] {
    static MATRIX: OnceLock<Vec<(String, Option<String>)>> = OnceLock::new();
    MATRIX.get_or_init(|| {
        let script = repo_root().join("scripts/chart-matrix");
        let out = Command::new("bash")
            .arg(&script)
            .output()
            .unwrap_or_else(|e| panic!("running {}: {e}", script.display()));
        assert!(
            out.status.success(),
            "{} failed:\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let pairs: Vec<(String, Option<String>)> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|line| {
                let (chart, values) = line
                    .split_once('\t')
                    .unwrap_or_else(|| panic!("scripts/chart-matrix printed {line:?}"));
                let values = (values != "-").then(|| values.to_string());
                (chart.to_string(), values)
            })
            .collect();
        assert!(!pairs.is_empty(), "scripts/chart-matrix printed nothing");
        pairs
    })
}

/// The values files an application chart is checked with (paths relative to the repository).
pub fn values_files(chart: &str) -> Vec<String> {
    matrix()
        .iter()
        .filter(|(c, _)| c == chart)
        .filter_map(|(_, v)| v.clone())
        .collect()
}

/// `helm template` of a chart with values files and `--set` pairs; Err carries Helm's stderr.
pub fn render_with(chart: &str, values: &[PathBuf], set: &[&str]) -> Result<Vec<Value>, String> {
    let ws = workspace();
    let mut cmd = ws.helm();
    cmd.args(["template", RELEASE])
        .arg(ws.charts.join(chart))
        .args(["--namespace", NAMESPACE, "--kube-version", &kube_version()]);
    for v in values {
        cmd.arg("-f").arg(v);
    }
    for s in set {
        cmd.args(["--set", s]);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("running {}: {e}", helm().display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(parse_documents(&String::from_utf8_lossy(&out.stdout)))
}

pub fn parse_documents(yaml: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    for doc in serde_norway::Deserializer::from_str(yaml) {
        let value: Value = serde::Deserialize::deserialize(doc)
            .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}"));
        if !value.is_null() {
            docs.push(value);
        }
    }
    docs
}

pub struct Render {
    pub chart: String,
    pub values: String,
    pub docs: Vec<Value>,
}

impl Render {
    pub fn id(&self) -> String {
        format!("charts/{} -f {}", self.chart, self.values)
    }
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.docs.iter().filter(move |d| d["kind"] == kind)
    }
}

/// Every application chart × each of its values files, rendered once.
pub fn renders() -> &'static [Render] {
    static RENDERS: OnceLock<Vec<Render>> = OnceLock::new();
    RENDERS.get_or_init(|| {
        let ws = workspace();
        let mut all = Vec::new();
        for chart in &ws.application_charts {
            for values in values_files(chart) {
                let docs =
                    render_with(chart, &[repo_root().join(&values)], &[]).unwrap_or_else(|e| {
                        panic!("helm template charts/{chart} -f {values} failed:\n{e}")
                    });
                all.push(Render {
                    chart: chart.clone(),
                    values,
                    docs,
                });
            }
        }
        assert!(!all.is_empty(), "no chart rendered");
        all
    })
}

/// A pod template (or test/hook Pod) of a rendered workload.
pub struct PodTemplate {
    /// `Kind/name`
    pub workload: String,
    pub kind: String,
    pub spec: PodSpec,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// `spec.selector.matchLabels` of Deployments and StatefulSets.
    pub selector: Option<BTreeMap<String, String>>,
    /// Serves until stopped (Deployment, StatefulSet) rather than runs to completion (Job, test Pod).
    pub long_running: bool,
    pub replicas: Option<i32>,
    pub termination_grace: Option<i64>,
}

fn parse<T: serde::de::DeserializeOwned>(doc: &Value, what: &str) -> T {
    serde_json::from_value(doc.clone())
        .unwrap_or_else(|e| panic!("{what} does not parse as its k8s-openapi type: {e}"))
}

pub fn pod_templates(render: &Render) -> Vec<PodTemplate> {
    let mut out = Vec::new();
    for doc in &render.docs {
        let kind = doc["kind"].as_str().unwrap_or_default().to_string();
        let name = doc["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let workload = format!("{kind}/{name}");
        let what = format!("{workload} of {}", render.id());
        let (template, selector, long_running, replicas) = match kind.as_str() {
            "Deployment" => {
                let d: Deployment = parse(doc, &what);
                let spec = d.spec.unwrap_or_else(|| panic!("{what}: no spec"));
                (
                    spec.template,
                    spec.selector.match_labels,
                    true,
                    spec.replicas,
                )
            }
            "StatefulSet" => {
                let s: StatefulSet = parse(doc, &what);
                let spec = s.spec.unwrap_or_else(|| panic!("{what}: no spec"));
                (
                    spec.template,
                    spec.selector.match_labels,
                    true,
                    spec.replicas,
                )
            }
            "Job" => {
                let j: Job = parse(doc, &what);
                (
                    j.spec.unwrap_or_else(|| panic!("{what}: no spec")).template,
                    None,
                    false,
                    None,
                )
            }
            "Pod" => {
                let p: Pod = parse(doc, &what);
                let meta = p.metadata;
                let spec = p.spec.unwrap_or_else(|| panic!("{what}: no spec"));
                out.push(PodTemplate {
                    workload,
                    kind,
                    termination_grace: spec.termination_grace_period_seconds,
                    spec,
                    labels: meta.labels.unwrap_or_default(),
                    annotations: meta.annotations.unwrap_or_default(),
                    selector: None,
                    long_running: false,
                    replicas: None,
                });
                continue;
            }
            "DaemonSet" | "CronJob" | "ReplicaSet" | "ReplicationController" => {
                panic!(
                    "{what}: the charts are not expected to render a {kind}; extend chart-tests to check it"
                )
            }
            _ => continue,
        };
        let meta = template.metadata.unwrap_or_default();
        let spec = template
            .spec
            .unwrap_or_else(|| panic!("{what}: no pod template spec"));
        out.push(PodTemplate {
            workload,
            kind,
            termination_grace: spec.termination_grace_period_seconds,
            spec,
            labels: meta.labels.unwrap_or_default(),
            annotations: meta.annotations.unwrap_or_default(),
            selector,
            long_running,
            replicas,
        });
    }
    out
}
