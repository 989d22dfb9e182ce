//! What a release leaves in its namespace after `helm uninstall`. Everything of the kinds the charts render
//! is listed, minus what Kubernetes itself puts in every namespace (`kube-root-ca.crt`, the `default`
//! ServiceAccount) and minus what the caller expects to be kept by documented policy.

use crate::rollout;
use crate::wait::{self, Check};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    ConfigMap, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::ListParams;
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The PVCs the StatefulSets in `ns` own through volumeClaimTemplates (`<template>-<sts>-<ordinal>`): with
/// `persistentVolumeClaimRetentionPolicy.whenDeleted: Retain` they outlive an uninstall by design.
pub async fn statefulset_pvcs(client: &Client, ns: &str) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for s in Api::<StatefulSet>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await?
    {
        let spec = s.spec.unwrap_or_default();
        let name = s.metadata.name.unwrap_or_default();
        for t in spec.volume_claim_templates.iter().flatten() {
            for i in 0..spec.replicas.unwrap_or(1) {
                out.push(format!(
                    "{}-{name}-{i}",
                    t.metadata.name.clone().unwrap_or_default()
                ));
            }
        }
    }
    Ok(out)
}

/// Waits until no pod is left in `ns` (they terminate after their owners are deleted).
pub async fn wait_no_pods(client: &Client, ns: &str, timeout: Duration) -> anyhow::Result<()> {
    wait::until(
        "every pod to be gone",
        timeout,
        Duration::from_secs(1),
        || async {
            let pods = Api::<Pod>::namespaced(client.clone(), ns)
                .list(&ListParams::default())
                .await?;
            let names: Vec<_> = pods
                .items
                .iter()
                .filter_map(|p| p.metadata.name.clone())
                .collect();
            Ok(if names.is_empty() {
                Check::Done(())
            } else {
                Check::Pending(format!("{names:?}"))
            })
        },
    )
    .await
}

async fn names<K>(
    client: &Client,
    ns: &str,
    kind: &str,
    skip: &[&str],
) -> anyhow::Result<Vec<String>>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    <K as Resource>::DynamicType: Default,
{
    let list = Api::<K>::namespaced(client.clone(), ns)
        .list(&ListParams::default())
        .await?;
    Ok(list
        .items
        .iter()
        .filter_map(|o| o.meta().name.clone())
        .filter(|n| !skip.contains(&n.as_str()))
        .map(|n| format!("{kind}/{n}"))
        .collect())
}

/// Objects left in `ns` other than `kept` (`kind/name`, e.g. `secret/reg-credentials`).
pub async fn list(client: &Client, ns: &str, kept: &[String]) -> anyhow::Result<Vec<String>> {
    let mut left = Vec::new();
    left.extend(names::<Secret>(client, ns, "secret", &[]).await?);
    left.extend(names::<ConfigMap>(client, ns, "configmap", &["kube-root-ca.crt"]).await?);
    left.extend(names::<ServiceAccount>(client, ns, "serviceaccount", &["default"]).await?);
    left.extend(names::<Service>(client, ns, "service", &[]).await?);
    left.extend(names::<PersistentVolumeClaim>(client, ns, "persistentvolumeclaim", &[]).await?);
    left.extend(names::<Pod>(client, ns, "pod", &[]).await?);
    left.extend(names::<NetworkPolicy>(client, ns, "networkpolicy", &[]).await?);
    left.extend(names::<PodDisruptionBudget>(client, ns, "poddisruptionbudget", &[]).await?);
    left.extend(names::<Role>(client, ns, "role", &[]).await?);
    left.extend(names::<RoleBinding>(client, ns, "rolebinding", &[]).await?);
    left.extend(
        rollout::observe(client, ns, None)
            .await?
            .into_iter()
            .map(|(n, _)| n),
    );
    left.retain(|n| !kept.contains(n));
    Ok(left)
}
