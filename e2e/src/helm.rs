//! The `helm` CLI, Helm 3 or Helm 4 (found via `$HELM`, else `helm` on PATH). The two majors differ in flags
//! the suite uses (checked against `helm3 --help` / `helm4 --help`, v3.19 and v4.1):
//!
//! | what | Helm 3 | Helm 4 |
//! |---|---|---|
//! | wait for readiness (install, upgrade, rollback, uninstall) | `--wait` (bool) | `--wait=watcher` (`--wait` is a strategy: `watcher`, `hookOnly` — the default, i.e. no readiness wait — or `legacy`) |
//! | roll back / uninstall on a failed upgrade / install | `--atomic` | `--rollback-on-failure` (`--atomic` is gone) |
//! | replace resources | `--force` | `--force-replace` |
//! | `helm test` without NOTES | `--hide-notes` | not a flag of `test` (notes are not printed) |
//! | `helm test --logs` with `hook-delete-policy: hook-succeeded` | fails: the pod is deleted before its logs are read (helm/helm#9098, seen with v3.19) | prints the logs, then cleans up |
//!
//! So on Helm 3 the wrapper runs `helm test` without `--logs` (the exit status and `Phase: Succeeded` still
//! tell the outcome); see [`Helm::test_prints_logs`].
//!
//! Argument lists are built by pure functions (unit-tested below); [`Helm::run`] executes them under a
//! deadline and fails with the command's stderr.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Helm {
    pub bin: PathBuf,
    pub major: u32,
    pub version: String,
    /// `--kubeconfig` / `--kube-context`, added to every command that talks to the cluster.
    kube_args: Vec<String>,
}

/// A release as the scenarios install it.
#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub namespace: String,
    pub chart: PathBuf,
    pub values: Vec<PathBuf>,
    pub set: Vec<(String, String)>,
}

/// `v3.19.0+g1234`, `v3.19`, `v4.1.0` → 3 / 4.
pub fn parse_major(version: &str) -> Option<u32> {
    version
        .trim()
        .trim_start_matches('v')
        .split(['.', '+', '-'])
        .next()?
        .parse()
        .ok()
}

impl Helm {
    /// For tests of the argument builders: no binary involved.
    pub fn with_major(major: u32) -> Helm {
        Helm {
            bin: "helm".into(),
            major,
            version: format!("v{major}"),
            kube_args: Vec::new(),
        }
    }

    /// The Helm of `$HELM`, else `helm` on PATH.
    pub async fn detect(kubeconfig: Option<&Path>, context: Option<&str>) -> anyhow::Result<Helm> {
        let bin = std::env::var_os("HELM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("helm"));
        Helm::at(bin, kubeconfig, context).await
    }

    /// The Helm binary at `bin` (its major version asked from it).
    pub async fn at(
        bin: PathBuf,
        kubeconfig: Option<&Path>,
        context: Option<&str>,
    ) -> anyhow::Result<Helm> {
        let out = tokio::process::Command::new(&bin)
            .args(["version", "--template", "{{.Version}}"])
            .output()
            .await
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot run {} ({e}); set HELM or put helm on PATH (scripts/install-tools helm)",
                    bin.display()
                )
            })?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let major = parse_major(&version)
            .filter(|m| *m == 3 || *m == 4)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: unsupported Helm version {version:?} (need 3 or 4)",
                    bin.display()
                )
            })?;
        let mut kube_args = Vec::new();
        if let Some(k) = kubeconfig {
            kube_args.push(format!("--kubeconfig={}", k.display()));
        }
        if let Some(c) = context {
            kube_args.push(format!("--kube-context={c}"));
        }
        Ok(Helm {
            bin,
            major,
            version,
            kube_args,
        })
    }

    /// The flag that makes install/upgrade/rollback/uninstall wait until resources are ready (or gone).
    pub fn wait_flag(&self) -> &'static str {
        if self.major >= 4 {
            "--wait=watcher"
        } else {
            "--wait"
        }
    }

    /// The flag that undoes a failed install/upgrade.
    pub fn atomic_flag(&self) -> &'static str {
        if self.major >= 4 {
            "--rollback-on-failure"
        } else {
            "--atomic"
        }
    }

    fn values_args(r: &Release) -> Vec<String> {
        let mut a = Vec::new();
        for v in &r.values {
            a.push("-f".into());
            a.push(v.display().to_string());
        }
        for (k, v) in &r.set {
            a.push("--set".into());
            a.push(format!("{k}={v}"));
        }
        a
    }

    pub fn install_args(&self, r: &Release, timeout: Duration) -> Vec<String> {
        let mut a = vec![
            "install".into(),
            r.name.clone(),
            r.chart.display().to_string(),
            "--namespace".into(),
            r.namespace.clone(),
            self.wait_flag().into(),
            "--wait-for-jobs".into(),
            format!("--timeout={}s", timeout.as_secs()),
            "--hide-notes".into(),
        ];
        a.extend(Self::values_args(r));
        a
    }

    /// `--reset-values`: the new release is exactly the chart defaults plus the given files, so a scenario's
    /// values never leak into the next revision by accident.
    pub fn upgrade_args(&self, r: &Release, timeout: Duration, atomic: bool) -> Vec<String> {
        let mut a = vec![
            "upgrade".into(),
            r.name.clone(),
            r.chart.display().to_string(),
            "--namespace".into(),
            r.namespace.clone(),
            "--reset-values".into(),
            self.wait_flag().into(),
            "--wait-for-jobs".into(),
            format!("--timeout={}s", timeout.as_secs()),
            "--hide-notes".into(),
        ];
        if atomic {
            a.push(self.atomic_flag().into());
        }
        a.extend(Self::values_args(r));
        a
    }

    pub fn rollback_args(&self, r: &Release, revision: u32, timeout: Duration) -> Vec<String> {
        vec![
            "rollback".into(),
            r.name.clone(),
            revision.to_string(),
            "--namespace".into(),
            r.namespace.clone(),
            self.wait_flag().into(),
            "--wait-for-jobs".into(),
            format!("--timeout={}s", timeout.as_secs()),
        ]
    }

    /// Whether `helm test --logs` works with test pods deleted on success (the chart's policy).
    pub fn test_prints_logs(&self) -> bool {
        self.major >= 4
    }

    pub fn test_args(&self, r: &Release, timeout: Duration) -> Vec<String> {
        let mut a = vec![
            "test".into(),
            r.name.clone(),
            "--namespace".into(),
            r.namespace.clone(),
            format!("--timeout={}s", timeout.as_secs()),
        ];
        if self.test_prints_logs() {
            a.push("--logs".into());
        } else {
            a.push("--hide-notes".into());
        }
        a
    }

    pub fn uninstall_args(&self, r: &Release, timeout: Duration) -> Vec<String> {
        vec![
            "uninstall".into(),
            r.name.clone(),
            "--namespace".into(),
            r.namespace.clone(),
            self.wait_flag().into(),
            format!("--timeout={}s", timeout.as_secs()),
        ]
    }

    /// Runs `helm ARGS` (plus the kube flags) under `timeout` (a little more than helm's own `--timeout`, so
    /// helm reports its own timeout first). Returns stdout; fails with stdout+stderr.
    pub async fn run(&self, args: &[String], timeout: Duration) -> anyhow::Result<String> {
        let needs_cluster = !matches!(
            args.first().map(String::as_str),
            Some("dependency" | "template" | "lint" | "version")
        );
        let mut cmd = tokio::process::Command::new(&self.bin);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if needs_cluster {
            cmd.args(&self.kube_args);
        }
        let shown = format!("helm{} {}", self.major, args.join(" "));
        eprintln!("    $ {shown}");
        let out = crate::wait::within(&shown, timeout, async {
            cmd.output()
                .await
                .map_err(|e| anyhow::anyhow!("{shown}: {e}"))
        })
        .await?;
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        if !out.status.success() {
            anyhow::bail!(
                "{shown} failed ({}):\n{}\n{}",
                out.status,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(stdout)
    }

    /// `helm dependency build --skip-refresh` for the charts in order (library consumers first, umbrella
    /// last: the umbrella packs the others' `charts/` as they are). The archives are git-ignored, so a fresh
    /// clone needs this before any install.
    pub async fn dependency_build(&self, charts: &[PathBuf]) -> anyhow::Result<()> {
        for c in charts {
            let args = vec![
                "dependency".into(),
                "build".into(),
                "--skip-refresh".into(),
                c.display().to_string(),
            ];
            self.run(&args, Duration::from_secs(120)).await?;
        }
        Ok(())
    }

    /// Revision numbers and statuses, oldest first (`helm history -o json`).
    pub async fn history(&self, r: &Release) -> anyhow::Result<Vec<(u32, String)>> {
        let args = vec![
            "history".into(),
            r.name.clone(),
            "--namespace".into(),
            r.namespace.clone(),
            "--output=json".into(),
        ];
        let out = self.run(&args, Duration::from_secs(60)).await?;
        let v: serde_json::Value = serde_json::from_str(&out)?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                (
                    h["revision"].as_u64().unwrap_or(0) as u32,
                    h["status"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn rel() -> Release {
        Release {
            name: "reg".into(),
            namespace: "ns1".into(),
            chart: "charts/mcp-registry-stack".into(),
            values: vec!["values/local.yaml".into()],
            set: vec![("a.b".into(), "1".into())],
        }
    }

    #[rstest]
    #[case("v3.19.0+g3d8990f", Some(3))]
    #[case("v3.19", Some(3))]
    #[case("v4.1.0", Some(4))]
    #[case("4.0.0-rc.1", Some(4))]
    #[case("garbage", None)]
    fn majors(#[case] v: &str, #[case] want: Option<u32>) {
        assert_eq!(parse_major(v), want);
    }

    #[rstest]
    #[case(3, "--wait", "--atomic")]
    #[case(4, "--wait=watcher", "--rollback-on-failure")]
    fn wait_and_atomic(#[case] major: u32, #[case] wait: &str, #[case] atomic: &str) {
        let h = Helm::with_major(major);
        let t = Duration::from_secs(300);
        let up = h.upgrade_args(&rel(), t, true);
        assert!(
            up.contains(&wait.to_string()) && up.contains(&atomic.to_string()),
            "{up:?}"
        );
        assert!(h.install_args(&rel(), t).contains(&wait.to_string()));
        assert!(h.rollback_args(&rel(), 1, t).contains(&wait.to_string()));
        assert!(h.uninstall_args(&rel(), t).contains(&wait.to_string()));
        // Neither major may get the other's flag: Helm 4 rejects --atomic, Helm 3 rejects --wait=watcher.
        let other: &[&str] = if major == 3 {
            &["--wait=watcher", "--rollback-on-failure"]
        } else {
            &["--wait", "--atomic"]
        };
        for a in [up, h.install_args(&rel(), t), h.rollback_args(&rel(), 1, t)] {
            assert!(other.iter().all(|o| !a.contains(&o.to_string())), "{a:?}");
        }
    }

    #[test]
    fn test_flags_per_major() {
        let t = Duration::from_secs(60);
        // Helm 3: --hide-notes exists; --logs fails once the hook-succeeded policy deleted the pod.
        let h3 = Helm::with_major(3).test_args(&rel(), t);
        assert!(
            h3.contains(&"--hide-notes".into()) && !h3.contains(&"--logs".into()),
            "{h3:?}"
        );
        let h4 = Helm::with_major(4).test_args(&rel(), t);
        assert!(
            !h4.contains(&"--hide-notes".into()) && h4.contains(&"--logs".into()),
            "{h4:?}"
        );
    }

    #[test]
    fn values_are_passed_in_order() {
        let a = Helm::with_major(4).install_args(&rel(), Duration::from_secs(1));
        let i = a.iter().position(|x| x == "-f").unwrap();
        assert_eq!(&a[i..], ["-f", "values/local.yaml", "--set", "a.b=1"]);
        assert!(a.contains(&"--timeout=1s".into()) && a.contains(&"--namespace".into()));
    }
}
