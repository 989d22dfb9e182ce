//! Port-forward with kube-rs to a ready pod behind a Service (what `kubectl port-forward svc/x` does): the
//! pod is chosen from the Service's EndpointSlices (ready endpoints only, so a pod that is draining or not
//! yet ready is never picked), the port from the slice (the resolved targetPort). A local listener on
//! 127.0.0.1 opens one forwarded stream per accepted connection.
//!
//! A port-forward is pinned to one pod and dies with it: use it for checks against a settled release, not
//! across a rollout (the continuous reader uses the Service's ClusterIP instead; see reader.rs).

use crate::wait::{self, Check};
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ListParams;
use kube::{Api, Client};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

pub struct PortForward {
    pub local: SocketAddr,
    pub pod: String,
    task: tokio::task::JoinHandle<()>,
}

impl PortForward {
    pub fn url(&self) -> String {
        format!("http://{}", self.local)
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A ready pod behind `service` and the pod port that `service_port` maps to.
pub async fn ready_backend(
    client: &Client,
    ns: &str,
    service: &str,
    service_port: i32,
) -> anyhow::Result<Option<(String, u16)>> {
    let svc = Api::<Service>::namespaced(client.clone(), ns)
        .get(service)
        .await?;
    let port = svc
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .and_then(|ps| ps.iter().find(|p| p.port == service_port).cloned())
        .ok_or_else(|| anyhow::anyhow!("service {service} has no port {service_port}"))?;
    let slices = Api::<EndpointSlice>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={service}")))
        .await?;
    for slice in slices {
        let pod_port = slice
            .ports
            .iter()
            .flatten()
            .find(|p| p.name == port.name)
            .and_then(|p| p.port);
        let pod_port = match (pod_port, &port.target_port) {
            (Some(p), _) => p,
            (None, Some(IntOrString::Int(p))) => *p,
            (None, _) => continue,
        };
        for ep in slice.endpoints.iter().flatten() {
            let ready = ep
                .conditions
                .as_ref()
                .and_then(|c| c.ready)
                .unwrap_or(false);
            let terminating = ep
                .conditions
                .as_ref()
                .and_then(|c| c.terminating)
                .unwrap_or(false);
            if let (true, false, Some(r)) = (ready, terminating, &ep.target_ref)
                && r.kind.as_deref() == Some("Pod")
                && let Some(name) = &r.name
            {
                return Ok(Some((name.clone(), u16::try_from(pod_port)?)));
            }
        }
    }
    Ok(None)
}

/// Waits (up to `timeout`) for a ready endpoint of `service` and forwards a local port to it.
pub async fn to_service(
    client: &Client,
    ns: &str,
    service: &str,
    service_port: i32,
    timeout: Duration,
) -> anyhow::Result<PortForward> {
    let (pod, port) = wait::until(
        &format!("a ready endpoint of service {service}"),
        timeout,
        Duration::from_millis(500),
        || async {
            Ok(
                match ready_backend(client, ns, service, service_port).await? {
                    Some(b) => Check::Done(b),
                    None => Check::Pending("no ready endpoint".into()),
                },
            )
        },
    )
    .await?;
    to_pod(client, ns, &pod, port).await
}

pub async fn to_pod(
    client: &Client,
    ns: &str,
    pod: &str,
    port: u16,
) -> anyhow::Result<PortForward> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let local = listener.local_addr()?;
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let name = pod.to_string();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            let pods = pods.clone();
            let name = name.clone();
            tokio::spawn(async move {
                match pods.portforward(&name, &[port]).await {
                    Ok(mut pf) => {
                        if let Some(mut upstream) = pf.take_stream(port) {
                            let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream).await;
                            drop(upstream);
                        }
                        let _ = pf.join().await;
                    }
                    Err(e) => eprintln!("    port-forward to {name}:{port} failed: {e}"),
                }
            });
        }
    });
    eprintln!(
        "    port-forward 127.0.0.1:{} -> pod {pod}:{port}",
        local.port()
    );
    Ok(PortForward {
        local,
        pod: pod.to_string(),
        task,
    })
}
