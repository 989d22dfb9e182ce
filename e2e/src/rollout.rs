//! Rollout checks with the same rules as `kubectl rollout status` (k8s.io/kubectl/pkg/polymorphichelpers/
//! rollout_status.go), evaluated on kube-rs objects, plus Jobs (which kubectl only covers with `kubectl
//! wait --for=condition=complete`). The evaluation is pure (unit-tested below); [`wait_all`] polls it.

use crate::progress::Progress;
use crate::wait::{self, Check};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use kube::api::ListParams;
use kube::{Api, Client};
use std::time::Duration;

/// Outcome of one look at a workload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Done,
    Waiting(String),
    Failed(String),
}

pub fn deployment(d: &Deployment) -> Status {
    let generation = d.metadata.generation.unwrap_or(0);
    let Some(st) = &d.status else {
        return Status::Waiting("no status yet".into());
    };
    // Until the controller has seen the current spec, every counter below describes the previous one.
    if generation > st.observed_generation.unwrap_or(0) {
        return Status::Waiting("waiting for the deployment spec update to be observed".into());
    }
    if let Some(c) = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
    {
        return Status::Failed(format!(
            "exceeded its progress deadline: {}",
            c.message.clone().unwrap_or_default()
        ));
    }
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let updated = st.updated_replicas.unwrap_or(0);
    let replicas = st.replicas.unwrap_or(0);
    let available = st.available_replicas.unwrap_or(0);
    if updated < want {
        return Status::Waiting(format!(
            "{updated} out of {want} new replicas have been updated"
        ));
    }
    if replicas > updated {
        return Status::Waiting(format!(
            "{} old replicas are pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return Status::Waiting(format!(
            "{available} of {updated} updated replicas are available"
        ));
    }
    Status::Done
}

pub fn statefulset(s: &StatefulSet) -> Status {
    let spec = s.spec.as_ref();
    let strategy = spec
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.type_.clone())
        .unwrap_or_else(|| "RollingUpdate".into());
    if strategy != "RollingUpdate" {
        // kubectl refuses too: with OnDelete nothing rolls by itself.
        return Status::Failed(format!("update strategy {strategy} cannot be checked"));
    }
    let Some(st) = &s.status else {
        return Status::Waiting("no status yet".into());
    };
    let observed = st.observed_generation.unwrap_or(0);
    if observed == 0 || s.metadata.generation.unwrap_or(0) > observed {
        return Status::Waiting("waiting for the statefulset spec update to be observed".into());
    }
    let want = spec.and_then(|s| s.replicas).unwrap_or(1);
    let ready = st.ready_replicas.unwrap_or(0);
    if ready < want {
        return Status::Waiting(format!("{ready} of {want} pods are ready"));
    }
    // minReadySeconds: kubectl only looks at ready; available is the stricter, current notion.
    if st.available_replicas.unwrap_or(ready) < want {
        return Status::Waiting(format!(
            "{} of {want} pods are available",
            st.available_replicas.unwrap_or(0)
        ));
    }
    let partition = spec
        .and_then(|s| s.update_strategy.as_ref())
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.partition)
        .unwrap_or(0);
    if partition > 0 {
        let need = want - partition;
        let updated = st.updated_replicas.unwrap_or(0);
        if updated < need {
            return Status::Waiting(format!(
                "partitioned roll out: {updated} of {need} new pods have been updated"
            ));
        }
        return Status::Done;
    }
    if st.update_revision.is_some() && st.update_revision != st.current_revision {
        return Status::Waiting(format!(
            "rolling update to complete: {} pods at revision {}",
            st.updated_replicas.unwrap_or(0),
            st.update_revision.clone().unwrap_or_default()
        ));
    }
    Status::Done
}

pub fn job(j: &Job) -> Status {
    let conds = j
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .cloned()
        .unwrap_or_default();
    let is = |t: &str| conds.iter().any(|c| c.type_ == t && c.status == "True");
    if is("Failed") {
        let c = conds.iter().find(|c| c.type_ == "Failed");
        return Status::Failed(format!(
            "job failed: {} {}",
            c.and_then(|c| c.reason.clone()).unwrap_or_default(),
            c.and_then(|c| c.message.clone()).unwrap_or_default()
        ));
    }
    if is("Complete") {
        return Status::Done;
    }
    let st = j.status.as_ref();
    Status::Waiting(format!(
        "{} succeeded, {} active, {} failed",
        st.and_then(|s| s.succeeded).unwrap_or(0),
        st.and_then(|s| s.active).unwrap_or(0),
        st.and_then(|s| s.failed).unwrap_or(0)
    ))
}

/// Combines many workloads: failed if any failed, else waiting on the first that waits.
pub fn combine(items: &[(String, Status)]) -> Status {
    if let Some((n, Status::Failed(w))) = items.iter().find(|(_, s)| matches!(s, Status::Failed(_)))
    {
        return Status::Failed(format!("{n}: {w}"));
    }
    let waiting: Vec<String> = items
        .iter()
        .filter_map(|(n, s)| match s {
            Status::Waiting(w) => Some(format!("{n}: {w}")),
            _ => None,
        })
        .collect();
    if waiting.is_empty() {
        Status::Done
    } else {
        Status::Waiting(waiting.join("; "))
    }
}

/// Looks at every Deployment, StatefulSet and Job in `ns` (matching `selector`, if any) once.
pub async fn observe(
    client: &Client,
    ns: &str,
    selector: Option<&str>,
) -> anyhow::Result<Vec<(String, Status)>> {
    let lp = match selector {
        Some(s) => ListParams::default().labels(s),
        None => ListParams::default(),
    };
    let mut out = Vec::new();
    for d in Api::<Deployment>::namespaced(client.clone(), ns)
        .list(&lp)
        .await?
    {
        out.push((
            format!("deployment/{}", name_of(&d.metadata)),
            deployment(&d),
        ));
    }
    for s in Api::<StatefulSet>::namespaced(client.clone(), ns)
        .list(&lp)
        .await?
    {
        out.push((
            format!("statefulset/{}", name_of(&s.metadata)),
            statefulset(&s),
        ));
    }
    for j in Api::<Job>::namespaced(client.clone(), ns).list(&lp).await? {
        out.push((format!("job/{}", name_of(&j.metadata)), job(&j)));
    }
    Ok(out)
}

fn name_of(m: &kube::api::ObjectMeta) -> String {
    m.name.clone().unwrap_or_default()
}

/// Waits until every workload in `ns` has rolled out (at least `min_workloads` of them must exist, so an
/// empty namespace is not "done"). Returns the names that were checked.
pub async fn wait_all(
    client: &Client,
    ns: &str,
    min_workloads: usize,
    timeout: Duration,
    progress: &Progress,
) -> anyhow::Result<Vec<String>> {
    // Log changes of state only: a 5-minute wait must not print 600 lines.
    let last_reported = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    wait::until(
        &format!("every workload in namespace {ns} to roll out"),
        timeout,
        Duration::from_millis(500),
        || {
            let client = client.clone();
            let progress = progress.clone();
            let last = last_reported.clone();
            async move {
                let items = observe(&client, ns, None).await?;
                if items.len() < min_workloads {
                    return Ok(Check::Pending(format!(
                        "{} workloads exist, expected at least {min_workloads}",
                        items.len()
                    )));
                }
                Ok(match combine(&items) {
                    Status::Done => Check::Done(items.into_iter().map(|(n, _)| n).collect()),
                    Status::Failed(w) => Check::Failed(w),
                    Status::Waiting(w) => {
                        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                        if *last != w {
                            progress.log(format!("  rollout: {w}"));
                            last.clone_from(&w);
                        }
                        Check::Pending(w)
                    }
                })
            }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    fn deploy(gen_: i64, status: serde_json::Value) -> Deployment {
        serde_json::from_value(json!({
            "metadata": {"name": "r", "generation": gen_},
            "spec": {"replicas": 2, "selector": {}, "template": {}},
            "status": status,
        }))
        .unwrap()
    }

    #[rstest]
    #[case::not_observed(3, json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}), "observed")]
    #[case::updating(2, json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}), "1 out of 2 new replicas")]
    #[case::old_pending(2, json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}), "1 old replicas are pending termination")]
    #[case::unavailable(2, json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}), "1 of 2 updated replicas are available")]
    fn deployment_waits(#[case] g: i64, #[case] st: serde_json::Value, #[case] msg: &str) {
        match deployment(&deploy(g, st)) {
            Status::Waiting(w) => assert!(w.contains(msg), "{w}"),
            other => panic!("expected waiting, got {other:?}"),
        }
    }

    #[test]
    fn deployment_done_and_deadline() {
        let ok = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2});
        assert_eq!(deployment(&deploy(2, ok)), Status::Done);
        let stuck = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1,
            "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                            "message": "ReplicaSet \"r-1\" has timed out progressing."}]});
        assert!(
            matches!(deployment(&deploy(2, stuck)), Status::Failed(m) if m.contains("timed out progressing"))
        );
    }

    fn sts(gen_: i64, spec_extra: serde_json::Value, status: serde_json::Value) -> StatefulSet {
        let mut spec = json!({"replicas": 1, "selector": {}, "template": {}, "serviceName": "s"});
        if let (Some(s), Some(e)) = (spec.as_object_mut(), spec_extra.as_object()) {
            s.extend(e.clone());
        }
        serde_json::from_value(
            json!({"metadata": {"name": "db", "generation": gen_}, "spec": spec, "status": status}),
        )
        .unwrap()
    }

    #[rstest]
    #[case::unobserved(1, json!({}), json!({"replicas": 1, "observedGeneration": 0}), "observed")]
    #[case::not_ready(1, json!({}), json!({"replicas": 1, "observedGeneration": 1, "readyReplicas": 0}), "0 of 1 pods are ready")]
    #[case::revision(1, json!({}), json!({"replicas": 1, "observedGeneration": 1, "readyReplicas": 1, "availableReplicas": 1,
        "currentRevision": "db-a", "updateRevision": "db-b", "updatedReplicas": 0}), "revision db-b")]
    fn statefulset_waits(
        #[case] g: i64,
        #[case] extra: serde_json::Value,
        #[case] st: serde_json::Value,
        #[case] msg: &str,
    ) {
        match statefulset(&sts(g, extra, st)) {
            Status::Waiting(w) => assert!(w.contains(msg), "{w}"),
            other => panic!("expected waiting, got {other:?}"),
        }
    }

    #[test]
    fn statefulset_done_partition_and_ondelete() {
        let done = json!({"replicas": 1, "observedGeneration": 1, "readyReplicas": 1, "availableReplicas": 1,
            "currentRevision": "db-b", "updateRevision": "db-b"});
        assert_eq!(statefulset(&sts(1, json!({}), done.clone())), Status::Done);
        let part = json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}, "replicas": 2});
        let st = json!({"replicas": 2, "observedGeneration": 1, "readyReplicas": 2, "availableReplicas": 2,
            "currentRevision": "a", "updateRevision": "b", "updatedReplicas": 1});
        assert_eq!(statefulset(&sts(1, part, st)), Status::Done);
        let ondelete = json!({"updateStrategy": {"type": "OnDelete"}});
        assert!(matches!(
            statefulset(&sts(1, ondelete, done)),
            Status::Failed(_)
        ));
    }

    #[rstest]
    #[case::complete(json!({"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1}), Some(true))]
    #[case::failed(json!({"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}), Some(false))]
    #[case::running(json!({"active": 1}), None)]
    fn jobs(#[case] st: serde_json::Value, #[case] want: Option<bool>) {
        let j: Job = serde_json::from_value(
            json!({"metadata": {"name": "m"}, "spec": {"template": {}}, "status": st}),
        )
        .unwrap();
        match (job(&j), want) {
            (Status::Done, Some(true)) | (Status::Waiting(_), None) => {}
            (Status::Failed(m), Some(false)) => assert!(m.contains("BackoffLimitExceeded")),
            (got, _) => panic!("unexpected {got:?}"),
        }
    }

    #[test]
    fn combine_prefers_failure_then_waiting() {
        let items = vec![
            ("a".to_string(), Status::Done),
            ("b".to_string(), Status::Waiting("1 of 2".into())),
        ];
        assert!(matches!(combine(&items), Status::Waiting(w) if w == "b: 1 of 2"));
        let mut failing = items.clone();
        failing.push(("c".into(), Status::Failed("boom".into())));
        assert_eq!(combine(&failing), Status::Failed("c: boom".into()));
        assert_eq!(combine(&items[..1]), Status::Done);
    }
}
