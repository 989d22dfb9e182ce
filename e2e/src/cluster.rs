//! Cluster providers. `existing`: whatever KUBECONFIG (and `E2E_KUBE_CONTEXT`) point at — the project's
//! local cluster here. `kind`: a kind cluster created on first use, or reused when one of that name exists
//! (`E2E_KIND_CLUSTER`); its kubeconfig is exported to a file so helm and kube-rs talk to the same cluster.

use crate::wait;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provider {
    Existing,
    Kind {
        name: String,
        node_image: Option<String>,
    },
}

impl Provider {
    pub fn from_env() -> anyhow::Result<Provider> {
        match std::env::var("E2E_PROVIDER")
            .as_deref()
            .unwrap_or("existing")
        {
            "existing" => Ok(Provider::Existing),
            "kind" => Ok(Provider::Kind {
                name: std::env::var("E2E_KIND_CLUSTER")
                    .unwrap_or_else(|_| "mcp-registry-e2e".into()),
                node_image: std::env::var("E2E_KIND_NODE_IMAGE")
                    .ok()
                    .filter(|s| !s.is_empty()),
            }),
            other => anyhow::bail!("E2E_PROVIDER={other}: expected `existing` or `kind`"),
        }
    }
}

/// A connected cluster: the kube-rs client plus what helm needs to reach the same API server.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub provider: Provider,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
}

/// Runs a command to completion under `timeout`; fails with its stderr.
pub async fn run_cmd(program: &str, args: &[&str], timeout: Duration) -> anyhow::Result<String> {
    let shown = format!("{program} {}", args.join(" "));
    eprintln!("    $ {shown}");
    let out = wait::within(&shown, timeout, async {
        tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .map_err(|e| anyhow::anyhow!("cannot run {program}: {e}"))
    })
    .await?;
    if !out.status.success() {
        anyhow::bail!(
            "{shown} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// Creates the kind cluster unless one of that name exists; returns the path of its exported kubeconfig.
pub async fn ensure_kind(name: &str, node_image: Option<&str>) -> anyhow::Result<PathBuf> {
    let clusters = run_cmd("kind", &["get", "clusters"], Duration::from_secs(60)).await?;
    if clusters.lines().any(|l| l.trim() == name) {
        eprintln!("    kind cluster {name} exists: reusing it");
    } else {
        let mut args = vec!["create", "cluster", "--name", name, "--wait", "180s"];
        if let Some(img) = node_image {
            args.extend(["--image", img]);
        }
        run_cmd("kind", &args, Duration::from_secs(600)).await?;
    }
    let kubeconfig = run_cmd(
        "kind",
        &["get", "kubeconfig", "--name", name],
        Duration::from_secs(60),
    )
    .await?;
    let path = std::env::temp_dir().join(format!("e2e-kind-{name}.kubeconfig"));
    std::fs::write(&path, kubeconfig)?;
    Ok(path)
}

impl Cluster {
    /// Connects per `E2E_PROVIDER`. With `kind`, creates the cluster if needed (call [`ensure_kind`] once
    /// per process first when several tests share it; this function only reads the exported kubeconfig).
    pub async fn connect() -> anyhow::Result<Cluster> {
        let provider = Provider::from_env()?;
        let (kubeconfig, context) = match &provider {
            Provider::Existing => (
                std::env::var_os("KUBECONFIG").map(PathBuf::from),
                std::env::var("E2E_KUBE_CONTEXT")
                    .ok()
                    .filter(|s| !s.is_empty()),
            ),
            Provider::Kind { name, node_image } => (
                Some(ensure_kind(name, node_image.as_deref()).await?),
                Some(format!("kind-{name}")),
            ),
        };
        let client = client_for(kubeconfig.as_deref(), context.as_deref()).await?;
        // Fail here, with the address, rather than in the first real call of a scenario.
        let v = wait::within("GET /version of the API server", Duration::from_secs(20), async {
            client.apiserver_version().await.map_err(|e| {
                anyhow::anyhow!(
                    "the Kubernetes API is unreachable ({e:?}); KUBECONFIG={}: is the cluster up (e2e/local-cluster/up, or E2E_PROVIDER=kind)?",
                    kubeconfig.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "(default)".into())
                )
            })
        })
        .await?;
        eprintln!("    cluster: {provider:?}, Kubernetes {}", v.git_version);
        Ok(Cluster {
            client,
            provider,
            kubeconfig,
            context,
        })
    }
}

async fn client_for(kubeconfig: Option<&Path>, context: Option<&str>) -> anyhow::Result<Client> {
    let opts = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let config = match kubeconfig {
        // KUBECONFIG may list several files; kube-rs merges them like kubectl when it reads the env itself.
        Some(p) if !p.as_os_str().to_string_lossy().contains(':') => {
            Config::from_custom_kubeconfig(Kubeconfig::read_from(p)?, &opts).await?
        }
        _ => Config::from_kubeconfig(&opts).await?,
    };
    Ok(Client::try_from(config)?)
}
