//! End-to-end harness for the mcp-registry Helm charts, modelled on linkerd2's policy tests (a namespace per
//! test, created and torn down by a guard) and mirrord's e2e crate (cluster access through kube-rs only,
//! port-forwards to pods, no kubectl in the test code).
//!
//! Everything is configured from the environment (see [`Settings`] and docs/e2e.md):
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `E2E_PROVIDER` | `existing` | `existing` (KUBECONFIG / `E2E_KUBE_CONTEXT`) or `kind` |
//! | `E2E_KIND_CLUSTER`, `E2E_KIND_NODE_IMAGE` | `mcp-registry-e2e`, kind's default | kind cluster to create or reuse |
//! | `E2E_VALUES` | `values/local.yaml` | environment values file of the stack (`values/kind.yaml` on kind) |
//! | `E2E_IMAGE_BUILD` | `none` | `none`, `local-cluster` (offline, from `E2E_REGISTRY_BINARY`) or `docker` |
//! | `HELM` | `helm` on PATH | Helm 3 or 4 binary; flags are chosen per major version |
//! | `E2E_KEEP_ON_FAILURE` | unset | `1`: keep the namespace of a failed test for inspection |
//! | `E2E_ARTIFACTS` | unset | directory for diagnostics (events, pod states, logs) of failed tests |
//! | `E2E_REPORT` | unset | file that gets one JSON line per scenario (wall time, reader counts) |

pub mod cluster;
pub mod diagnostics;
pub mod helm;
pub mod images;
pub mod leftovers;
pub mod load;
pub mod namespace;
pub mod pods;
pub mod portforward;
pub mod progress;
pub mod reader;
pub mod registry;
pub mod rollout;
pub mod stack;
pub mod summary;
pub mod wait;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// Repository root (the e2e crate lives in `<root>/e2e`).
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

/// reqwest is built without a default TLS provider (the workspace picks ring explicitly); kube brings ring
/// as well. Install it once so either client can be built; a second call is a harmless no-op.
pub fn init_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Environment-driven settings shared by every scenario.
#[derive(Debug, Clone)]
pub struct Settings {
    pub values_file: PathBuf,
    pub keep_on_failure: bool,
    pub artifacts: Option<PathBuf>,
    pub report: Option<PathBuf>,
    /// Upper bound of each rollout / helm wait.
    pub rollout_timeout: Duration,
}

impl Settings {
    pub fn from_env() -> Settings {
        let root = repo_root();
        let values_file = std::env::var_os("E2E_VALUES")
            .map(PathBuf::from)
            .map(|p| if p.is_absolute() { p } else { root.join(p) })
            .unwrap_or_else(|| root.join("values/local.yaml"));
        let secs = std::env::var("E2E_ROLLOUT_TIMEOUT_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(300);
        Settings {
            values_file,
            keep_on_failure: env_flag("E2E_KEEP_ON_FAILURE"),
            artifacts: std::env::var_os("E2E_ARTIFACTS").map(PathBuf::from),
            report: std::env::var_os("E2E_REPORT").map(PathBuf::from),
            rollout_timeout: Duration::from_secs(secs),
        }
    }
}

/// `1`, `true`, `yes` (any case) are true; anything else, or unset, is false.
pub fn env_flag(name: &str) -> bool {
    std::env::var(name)
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        .unwrap_or(false)
}

/// A short suffix that makes names unique per run (namespaces, published servers).
pub fn unique_suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{:x}", (nanos / 1_000) % 0xff_ffff)
}

/// The outcome of one test as a line of `E2E_REPORT`: `{"test", "passed", "seconds"}` (the summary counts
/// these; scenario lines carry a `scenario` key instead).
pub fn report_outcome(settings: &Settings, test: &str, passed: bool, seconds: f64) {
    report(
        settings,
        serde_json::json!({"test": test, "passed": passed, "seconds": (seconds * 10.0).round() / 10.0}),
    );
}

/// Appends one JSON line to `E2E_REPORT` (read by the `e2e-summary` binary). Best effort: a report that
/// cannot be written is logged, never a test failure.
pub fn report(settings: &Settings, line: serde_json::Value) {
    let Some(path) = &settings.report else { return };
    use std::io::Write;
    let res = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = res {
        eprintln!("warning: cannot write the report {}: {e}", path.display());
    }
}
