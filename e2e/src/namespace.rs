//! A namespace per test (as in linkerd2's policy tests): created labelled for Pod Security `restricted`
//! (enforce, so a chart pod that is not compliant is rejected at admission and fails the test), deleted
//! afterwards — unless the test failed and `E2E_KEEP_ON_FAILURE=1`. A failed test first dumps diagnostics.
//!
//! [`run`] is the whole guard: the body runs in its own task so a panic is caught like an error, and the
//! cleanup (an async API call, which `Drop` cannot make) always runs.

use crate::cluster::Cluster;
use crate::helm::Helm;
use crate::progress::Progress;
use crate::wait::{self, Check};
use crate::{Settings, diagnostics, images, repo_root};
use k8s_openapi::api::core::v1::Namespace;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use std::future::Future;
use std::time::Duration;

/// What a scenario gets.
#[derive(Clone)]
pub struct TestEnv {
    pub cluster: Cluster,
    pub helm: Helm,
    pub ns: String,
    pub progress: Progress,
    pub settings: Settings,
}

/// Once per test process: chart dependencies and images (the first test pays; later ones reuse).
static SUITE_READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();

async fn suite_setup(cluster: &Cluster, helm: &Helm, progress: &Progress) -> anyhow::Result<()> {
    SUITE_READY
        .get_or_try_init(|| async {
            progress
                .step("suite: helm dependency build", async {
                    let root = repo_root().join("charts");
                    let charts: Vec<_> = [
                        "mcp-registry",
                        "postgresql",
                        "redis",
                        "mongodb",
                        "mcp-registry-stack",
                    ]
                    .iter()
                    .map(|c| root.join(c))
                    .collect();
                    helm.dependency_build(&charts).await
                })
                .await?;
            progress
                .step("suite: registry images (build, tag, load)", async {
                    images::prepare(&images::Build::from_env()?, &cluster.provider).await
                })
                .await
        })
        .await
        .map(|_| ())
}

/// Namespace names: DNS labels, at most 63 characters.
pub fn namespace_name(test: &str, suffix: &str) -> String {
    let clean: String = test
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let mut base = format!("e2e-{}", clean.trim_matches('-'));
    base.truncate(62 - suffix.len());
    format!("{}-{suffix}", base.trim_end_matches('-'))
}

/// The Pod Security level a test namespace enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PodSecurity {
    /// `restricted`, enforced: what every chart must pass (the default of [`run`]).
    Restricted,
    /// No label: for the checks of images started as root (which must drop privileges themselves).
    Unlabelled,
}

pub fn namespace_object(name: &str, test: &str, level: PodSecurity) -> Namespace {
    let mut labels = serde_json::json!({
        "app.kubernetes.io/managed-by": "mcp-registry-e2e",
        "mcp-registry.e2e/test": test,
    });
    if level == PodSecurity::Restricted {
        for mode in ["enforce", "warn", "audit"] {
            labels[format!("pod-security.kubernetes.io/{mode}")] = "restricted".into();
        }
        labels["pod-security.kubernetes.io/enforce-version"] = "latest".into();
    }
    serde_json::from_value(serde_json::json!({"metadata": {"name": name, "labels": labels}}))
        .expect("static namespace object")
}

async fn delete_namespace(cluster: &Cluster, ns: &str, progress: &Progress) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    match api.delete(ns, &DeleteParams::background()).await {
        Ok(_) => {}
        Err(kube::Error::Api(e)) if e.code == 404 => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    // Wait until it is gone, so the next test does not compete with pods that are still terminating.
    wait::until(
        &format!("namespace {ns} to be deleted"),
        Duration::from_secs(240),
        Duration::from_secs(1),
        || {
            let api = api.clone();
            async move {
                Ok(match api.get_opt(ns).await? {
                    None => Check::Done(()),
                    Some(n) => Check::Pending(format!(
                        "phase {}",
                        n.status.and_then(|s| s.phase).unwrap_or_default()
                    )),
                })
            }
        },
    )
    .await?;
    progress.log(format!("namespace {ns} deleted"));
    Ok(())
}

fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return format!("test task cancelled: {e}");
    }
    let p = e.into_panic();
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic with a non-string payload".into())
}

/// Runs `body` in a fresh namespace that enforces Pod Security `restricted`, with the guard described
/// above; panics (fails the test) on error.
pub async fn run<F, Fut>(test: &str, body: F)
where
    F: FnOnce(TestEnv) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    run_in(test, PodSecurity::Restricted, body).await
}

/// [`run`] with the namespace's Pod Security level chosen. The outcome is one line of `E2E_REPORT`.
pub async fn run_in<F, Fut>(test: &str, level: PodSecurity, body: F)
where
    F: FnOnce(TestEnv) -> Fut,
    Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
{
    crate::init_crypto();
    let progress = Progress::new(test);
    let settings = Settings::from_env();
    let setup = async {
        let cluster = progress
            .step("connect to the cluster", Cluster::connect())
            .await?;
        let helm = Helm::detect(cluster.kubeconfig.as_deref(), cluster.context.as_deref()).await?;
        progress.log(format!("helm: {} ({})", helm.bin.display(), helm.version));
        suite_setup(&cluster, &helm, &progress).await?;
        let ns = namespace_name(test, &crate::unique_suffix());
        let api: Api<Namespace> = Api::all(cluster.client.clone());
        api.create(&PostParams::default(), &namespace_object(&ns, test, level))
            .await?;
        progress.log(format!("namespace {ns} created (Pod Security: {level:?})"));
        anyhow::Ok(TestEnv {
            cluster,
            helm,
            ns,
            progress: progress.clone(),
            settings: settings.clone(),
        })
    };
    let env = match setup.await {
        Ok(env) => env,
        Err(e) => {
            crate::report_outcome(&settings, test, false, progress.elapsed_secs());
            panic!("{test}: setup failed: {e:#}")
        }
    };
    let result = match tokio::spawn(body(env.clone())).await {
        Ok(r) => r,
        Err(e) => Err(anyhow::anyhow!("panicked: {}", panic_message(e))),
    };
    if result.is_err() {
        diagnostics::dump(&env.cluster.client, &env.ns, settings.artifacts.as_deref()).await;
    }
    if result.is_err() && settings.keep_on_failure {
        progress.log(format!(
            "E2E_KEEP_ON_FAILURE: keeping namespace {} (delete it with: kubectl delete namespace {})",
            env.ns, env.ns
        ));
    } else if let Err(e) = delete_namespace(&env.cluster, &env.ns, &progress).await {
        progress.log(format!("warning: cleanup of {} failed: {e:#}", env.ns));
    }
    crate::report_outcome(&settings, test, result.is_ok(), progress.elapsed_secs());
    if let Err(e) = result {
        panic!("{test} failed after {:.1}s: {e:#}", progress.elapsed_secs());
    }
    progress.log(format!("passed in {:.1}s", progress.elapsed_secs()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_dns_labels() {
        let n = namespace_name("Postgres_Stack lifecycle", "abc123");
        assert_eq!(n, "e2e-postgres-stack-lifecycle-abc123");
        let long = namespace_name(&"x".repeat(100), "abc123");
        assert!(long.len() <= 63 && long.ends_with("-abc123"), "{long}");
    }

    #[test]
    fn namespace_enforces_restricted() {
        let ns = namespace_object("e2e-x", "x", PodSecurity::Restricted);
        let labels = ns.metadata.labels.unwrap();
        assert_eq!(labels["pod-security.kubernetes.io/enforce"], "restricted");
        let ns = namespace_object("e2e-x", "x", PodSecurity::Unlabelled);
        let labels = ns.metadata.labels.unwrap();
        assert!(!labels.keys().any(|k| k.starts_with("pod-security")));
        assert_eq!(labels["mcp-registry.e2e/test"], "x");
    }
}
