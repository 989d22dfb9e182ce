//! Small workloads for the cluster checks (`tests/cluster.rs`): create objects from JSON, wait for a pod to
//! be Ready or to have Succeeded (failing at once on a terminal state such as an image that is not there),
//! read its logs, run a command in it. Every wait is bounded ([`crate::wait`]).

use crate::wait::{self, Check};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, DynamicObject, LogParams, PostParams};
use kube::core::GroupVersionKind;
use kube::discovery::ApiResource;
use kube::{Client, ResourceExt};
use serde_json::Value;
use std::time::Duration;
use tokio::io::AsyncReadExt;

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Ready,
    Succeeded,
}

/// Create each object (a JSON manifest with `apiVersion` and `kind`) in `ns`.
pub async fn create(client: &Client, ns: &str, objects: &[Value]) -> anyhow::Result<()> {
    for o in objects {
        let (api_version, kind) = (
            o["apiVersion"].as_str().unwrap_or_default(),
            o["kind"].as_str().unwrap_or_default(),
        );
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        let obj: DynamicObject = serde_json::from_value(o.clone())?;
        api.create(&PostParams::default(), &obj)
            .await
            .map_err(|e| anyhow::anyhow!("creating {kind} {}: {e}", obj.name_any()))?;
    }
    Ok(())
}

/// Why a pod will never get where it was asked to go: a failed phase, or a container waiting for a reason
/// that does not resolve by itself (the image is missing and may not be pulled, a bad config).
pub fn terminal_reason(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    if status.phase.as_deref() == Some("Failed") {
        return Some("phase Failed".into());
    }
    let all = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in all {
        let waiting = c.state.as_ref().and_then(|s| s.waiting.as_ref());
        if let Some(w) = waiting {
            let reason = w.reason.as_deref().unwrap_or_default();
            if matches!(
                reason,
                "ErrImageNeverPull" | "InvalidImageName" | "CreateContainerConfigError"
            ) {
                return Some(format!(
                    "container {} is waiting: {reason} ({}) for image {}",
                    c.name,
                    w.message.as_deref().unwrap_or_default(),
                    c.image
                ));
            }
        }
    }
    None
}

/// Whether the pod is where it was asked to go.
pub fn reached(pod: &Pod, want: Want) -> bool {
    let status = pod.status.as_ref();
    match want {
        Want::Succeeded => status.and_then(|s| s.phase.as_deref()) == Some("Succeeded"),
        Want::Ready => status
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True")),
    }
}

/// Wait for `want`; on a terminal state fail at once with the pod's logs in the message.
pub async fn wait_for(
    client: &Client,
    ns: &str,
    name: &str,
    want: Want,
    timeout: Duration,
) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let outcome = wait::until(
        &format!("pod {ns}/{name} to be {want:?}"),
        timeout,
        Duration::from_millis(500),
        || {
            let api = api.clone();
            async move {
                let Some(pod) = api.get_opt(name).await? else {
                    return Ok(Check::Pending("not created yet".into()));
                };
                if reached(&pod, want) {
                    return Ok(Check::Done(()));
                }
                Ok(match terminal_reason(&pod) {
                    Some(why) => Check::Failed(why),
                    None => Check::Pending(format!(
                        "phase {}",
                        pod.status.and_then(|s| s.phase).unwrap_or_default()
                    )),
                })
            }
        },
    )
    .await;
    if let Err(e) = outcome {
        let logs = all_logs(client, ns, name).await;
        anyhow::bail!("{e:#}\n{logs}");
    }
    Ok(())
}

/// One container's log, trimmed.
pub async fn logs(client: &Client, ns: &str, pod: &str, container: &str) -> anyhow::Result<String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let params = LogParams {
        container: Some(container.into()),
        ..Default::default()
    };
    Ok(wait::within(
        &format!("logs of {ns}/{pod}/{container}"),
        Duration::from_secs(30),
        async { Ok(api.logs(pod, &params).await?) },
    )
    .await?
    .trim()
    .to_string())
}

/// The last lines of every container's log, for failure messages (best effort).
pub async fn all_logs(client: &Client, ns: &str, pod: &str) -> String {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let Ok(Some(p)) = api.get_opt(pod).await else {
        return format!("(pod {pod} not found)");
    };
    let spec = p.spec.unwrap_or_default();
    let names = spec
        .init_containers
        .iter()
        .flatten()
        .chain(spec.containers.iter())
        .map(|c| c.name.clone());
    let mut out = String::new();
    for c in names {
        let text = logs(client, ns, pod, &c)
            .await
            .unwrap_or_else(|e| format!("(no log: {e})"));
        let tail: Vec<&str> = text.lines().rev().take(20).collect();
        out.push_str(&format!("--- {pod}/{c}:\n"));
        for l in tail.into_iter().rev() {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

/// Run `cmd` in the pod's first container and return its stdout.
pub async fn exec(client: &Client, ns: &str, pod: &str, cmd: &[&str]) -> anyhow::Result<String> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let shown = format!("exec {ns}/{pod}: {}", cmd.join(" "));
    wait::within(&shown, Duration::from_secs(60), async {
        let mut p = api
            .exec(
                pod,
                cmd.iter().copied(),
                &AttachParams::default().stderr(false),
            )
            .await?;
        let mut out = String::new();
        if let Some(mut s) = p.stdout() {
            s.read_to_string(&mut out).await?;
        }
        p.join().await?;
        Ok(out)
    })
    .await
}

/// The real uid of the container's main process (after any privilege drop by its entrypoint).
pub async fn uid_of_pid1(client: &Client, ns: &str, pod: &str) -> anyhow::Result<u32> {
    let status = exec(client, ns, pod, &["cat", "/proc/1/status"]).await?;
    parse_real_uid(&status).ok_or_else(|| anyhow::anyhow!("no Uid line in /proc/1/status of {pod}"))
}

/// `Uid:\t999\t999\t999\t999` → 999 (the real uid, the first field).
pub fn parse_real_uid(proc_status: &str) -> Option<u32> {
    proc_status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|u| u.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(status: Value) -> Pod {
        serde_json::from_value(json!({"metadata": {"name": "p"}, "status": status})).unwrap()
    }

    #[test]
    fn ready_and_succeeded_are_read_from_the_status() {
        let ready =
            pod(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}));
        assert!(reached(&ready, Want::Ready) && !reached(&ready, Want::Succeeded));
        let done = pod(json!({"phase": "Succeeded"}));
        assert!(reached(&done, Want::Succeeded) && !reached(&done, Want::Ready));
    }

    #[test]
    fn a_missing_image_is_terminal_a_slow_start_is_not() {
        let missing = pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "c", "image": "local/x:1", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ErrImageNeverPull", "message": "not present"}}}]}));
        let why = terminal_reason(&missing).unwrap();
        assert!(
            why.contains("ErrImageNeverPull") && why.contains("local/x:1"),
            "{why}"
        );
        let creating = pod(json!({"phase": "Pending", "containerStatuses": [{
            "name": "c", "image": "local/x:1", "imageID": "", "ready": false, "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}}}]}));
        assert_eq!(terminal_reason(&creating), None);
        assert!(terminal_reason(&pod(json!({"phase": "Failed"}))).is_some());
    }

    #[test]
    fn real_uid_is_the_first_field() {
        let s = "Name:\tpostgres\nUid:\t999\t999\t999\t999\nGid:\t999\t999\t999\t999\n";
        assert_eq!(parse_real_uid(s), Some(999));
        assert_eq!(parse_real_uid("Name: x\n"), None);
    }
}
