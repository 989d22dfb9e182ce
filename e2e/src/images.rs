//! The registry image under test, in two tags: `mcp-registry:local` (install, rollback target) and
//! `mcp-registry:local-2` (the upgrade's "new image tag"). Both name the same build: the upgrade must roll
//! the pods because the pod template changes, which is what an image bump does.
//!
//! Build (`E2E_IMAGE_BUILD`):
//! - `none` — the images are already in the cluster (default);
//! - `local-cluster` — offline: `e2e/local-cluster/build-registry-image $E2E_REGISTRY_BINARY` (a static
//!   binary; the script imports into the running local cluster), then a second tag via `ctr` on the
//!   cluster's containerd (`E2E_CONTAINERD_ADDRESS`);
//! - `docker` — `docker build -f server/Dockerfile` (the GitHub path), then `docker tag`.
//!
//! Load: on kind, `kind load docker-image` of both tags; on an existing cluster nothing (pullPolicy Never).

use crate::cluster::{Provider, run_cmd};
use crate::repo_root;
use std::time::Duration;

pub const REPOSITORY: &str = "mcp-registry";
pub const TAG: &str = "local";
pub const UPGRADE_TAG: &str = "local-2";

pub fn image(tag: &str) -> String {
    format!("{REPOSITORY}:{tag}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Build {
    None,
    LocalCluster { binary: String, containerd: String },
    Docker,
}

impl Build {
    pub fn from_env() -> anyhow::Result<Build> {
        match std::env::var("E2E_IMAGE_BUILD").as_deref().unwrap_or("none") {
            "none" => Ok(Build::None),
            "docker" => Ok(Build::Docker),
            "local-cluster" => Ok(Build::LocalCluster {
                binary: std::env::var("E2E_REGISTRY_BINARY")
                    .map_err(|_| anyhow::anyhow!("E2E_IMAGE_BUILD=local-cluster needs E2E_REGISTRY_BINARY (a static mcp-registry)"))?,
                containerd: std::env::var("E2E_CONTAINERD_ADDRESS").unwrap_or_else(|_| {
                    "/var/lib/mcp-registry-local-cluster/run/containerd/containerd.sock".into()
                }),
            }),
            other => anyhow::bail!("E2E_IMAGE_BUILD={other}: expected none, local-cluster or docker"),
        }
    }
}

/// containerd stores short Docker-style names fully qualified.
fn containerd_ref(img: &str) -> String {
    format!("docker.io/library/{img}")
}

/// Builds both tags and makes them available to the cluster's nodes.
pub async fn prepare(build: &Build, provider: &Provider) -> anyhow::Result<()> {
    let root = repo_root();
    let (base, upgrade) = (image(TAG), image(UPGRADE_TAG));
    match build {
        Build::None => {}
        Build::LocalCluster { binary, containerd } => {
            let script = root.join("e2e/local-cluster/build-registry-image");
            let script = script.to_string_lossy();
            run_cmd(&script, &[binary], Duration::from_secs(300)).await?;
            let ctr = ["--address", containerd.as_str(), "--namespace", "k8s.io"];
            let (src, dst) = (containerd_ref(&base), containerd_ref(&upgrade));
            let mut args: Vec<&str> = ctr.to_vec();
            args.extend(["images", "tag", "--force", &src, &dst]);
            run_cmd("ctr", &args, Duration::from_secs(60)).await?;
            let mut ls: Vec<&str> = ctr.to_vec();
            ls.extend(["images", "ls"]);
            let listing = run_cmd("ctr", &ls, Duration::from_secs(60)).await?;
            for l in listing.lines().filter(|l| l.contains("mcp-registry:")) {
                eprintln!(
                    "    {}",
                    l.split_whitespace().collect::<Vec<_>>().join("  ")
                );
            }
        }
        Build::Docker => {
            let root_s = root.to_string_lossy().to_string();
            let dockerfile = root.join("server/Dockerfile").to_string_lossy().to_string();
            run_cmd(
                "docker",
                &["build", "-f", &dockerfile, "-t", &base, &root_s],
                Duration::from_secs(3600),
            )
            .await?;
            run_cmd("docker", &["tag", &base, &upgrade], Duration::from_secs(60)).await?;
            let size = run_cmd(
                "docker",
                &["image", "inspect", "-f", "{{.Size}}", &base],
                Duration::from_secs(60),
            )
            .await?;
            let bytes: f64 = size.trim().parse().unwrap_or(0.0);
            eprintln!("    image {base}: {:.1} MiB", bytes / 1_048_576.0);
        }
    }
    if let Provider::Kind { name, .. } = provider {
        run_cmd(
            "kind",
            &["load", "docker-image", "--name", name, &base, &upgrade],
            Duration::from_secs(600),
        )
        .await?;
    }
    Ok(())
}
