//! Pure decisions shared by every backend: what a publish, status change or edit must write, given the
//! rows the server already has. Backends load the rows under their per-server lock, ask a planner, then
//! apply the plan in the same transaction, so the rules live here once.

use super::{NewStatus, Rejection, StoreError, StoreResult};
use crate::model::{MAX_VERSIONS_PER_SERVER, Status};
use crate::versioning;
use chrono::{DateTime, Utc};

pub const VERSION_NOT_FOUND: &str = "Server version not found";
pub const SERVER_NOT_FOUND: &str = "Server not found";

/// The part of a stored row the planners need.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionMeta {
    pub version: String,
    pub published_at: DateTime<Utc>,
    pub status: Status,
    pub status_message: Option<String>,
    pub is_latest: bool,
    /// The sync source that owns the server (every version of a name carries the same).
    pub source: Option<String>,
}

/// The source owning a server, from its rows.
fn owner(existing: &[VersionMeta]) -> Option<&str> {
    existing.iter().find_map(|r| r.source.as_deref())
}

/// Local writes (publish, edit) are refused on a name a sync source owns.
fn check_local_write(existing: &[VersionMeta], name: &str) -> StoreResult<()> {
    match owner(existing) {
        Some(source) => Err(Rejection::OwnedBySource {
            name: name.to_owned(),
            owner: source.to_owned(),
        }
        .into()),
        None => Ok(()),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishPlan {
    pub new_is_latest: bool,
    /// The version whose `is_latest` flag must be cleared first (the previous latest), if any.
    pub clear_latest: Option<String>,
}

/// Decide a publish: duplicates (deleted rows count) and the version cap are refused; the new version
/// takes `is_latest` only when it compares strictly greater than the current latest (a tie keeps the old).
pub fn plan_publish(
    existing: &[VersionMeta],
    name: &str,
    new_version: &str,
    now: DateTime<Utc>,
) -> StoreResult<PublishPlan> {
    check_local_write(existing, name)?;
    if existing.iter().any(|r| r.version == new_version) {
        return Err(Rejection::DuplicateVersion {
            name: name.to_owned(),
            version: new_version.to_owned(),
        }
        .into());
    }
    if existing.len() >= MAX_VERSIONS_PER_SERVER {
        return Err(Rejection::TooManyVersions {
            max: MAX_VERSIONS_PER_SERVER,
        }
        .into());
    }
    let Some(current) = existing.iter().find(|r| r.is_latest) else {
        return Ok(PublishPlan {
            new_is_latest: true,
            clear_latest: None,
        });
    };
    let newer = versioning::compare(
        new_version,
        now.timestamp_micros(),
        &current.version,
        current.published_at.timestamp_micros(),
    ) == std::cmp::Ordering::Greater;
    Ok(PublishPlan {
        new_is_latest: newer,
        clear_latest: newer.then(|| current.version.clone()),
    })
}

/// One row to rewrite after a status change.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub version: String,
    pub status: Status,
    pub status_message: Option<String>,
    /// `Some(now)` when the status value itself changes; otherwise the stored value stays.
    pub status_changed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusPlan {
    pub updates: Vec<StatusUpdate>,
    /// The version that holds `is_latest` afterwards (recomputed after every status change).
    pub latest: Option<String>,
}

/// Whether a status change is accepted for one version (`validateStatusTransition`): a message sent
/// with `active` is refused; otherwise status or message (as sent, before `active` clears it) must differ.
fn transition(current: &VersionMeta, change: &NewStatus) -> Result<(), Rejection> {
    if change.status == Status::Active && change.message.is_some() {
        return Err(Rejection::MessageWithActive);
    }
    if current.status != change.status || current.status_message != change.message {
        return Ok(());
    }
    Err(Rejection::NoChanges)
}

/// Decide a status change of one version (`target = Some`) or all versions (`None`). One version: its
/// transition must be accepted. All versions: at least one transition must be accepted
/// (`validateBulkStatusTransition`); then every version whose stored status or message differs is
/// rewritten.
pub fn plan_status(
    existing: &[VersionMeta],
    target: Option<&str>,
    change: &NewStatus,
    now: DateTime<Utc>,
) -> StoreResult<StatusPlan> {
    let considered: Vec<&VersionMeta> = match target {
        Some(v) => {
            let current = existing
                .iter()
                .find(|r| r.version == v)
                .ok_or_else(|| StoreError::NotFound(VERSION_NOT_FOUND.into()))?;
            transition(current, change)?;
            vec![current]
        }
        None if existing.is_empty() => return Err(StoreError::NotFound(SERVER_NOT_FOUND.into())),
        None => {
            if !existing.iter().any(|r| transition(r, change).is_ok()) {
                return Err(Rejection::NoChangesInAnyVersion.into());
            }
            existing.iter().collect()
        }
    };
    let message = match change.status {
        // Moving to active clears any stored message.
        Status::Active => None,
        _ => change.message.clone(),
    };
    let updates: Vec<StatusUpdate> = considered
        .iter()
        .filter(|r| r.status != change.status || r.status_message != message)
        .map(|r| StatusUpdate {
            version: r.version.clone(),
            status: change.status,
            status_message: message.clone(),
            status_changed_at: (r.status != change.status).then_some(now),
            updated_at: now,
        })
        .collect();
    debug_assert!(!updates.is_empty(), "an accepted transition changes a row");
    let status_after = |r: &VersionMeta| {
        updates
            .iter()
            .find(|u| u.version == r.version)
            .map_or(r.status, |u| u.status)
    };
    let latest = latest_after(existing, status_after, None);
    Ok(StatusPlan { updates, latest })
}

/// The version that holds `is_latest` once every row has the status `status_after` gives it, with `added`
/// (a row being inserted: version, published_at, status) among them.
fn latest_after(
    existing: &[VersionMeta],
    status_after: impl Fn(&VersionMeta) -> Status,
    added: Option<(&str, DateTime<Utc>, Status)>,
) -> Option<String> {
    // The current holder first: on a tie (e.g. versions differing only in build metadata) it keeps the flag.
    let mut ordered: Vec<&VersionMeta> = existing.iter().collect();
    ordered.sort_by_key(|r| !r.is_latest);
    let mut candidates: Vec<(&str, i64, &str)> = ordered
        .iter()
        .map(|r| {
            (
                r.version.as_str(),
                r.published_at.timestamp_micros(),
                status_after(r).as_str(),
            )
        })
        .collect();
    if let Some((version, published_at, status)) = added {
        candidates.push((version, published_at.timestamp_micros(), status.as_str()));
    }
    versioning::pick_latest(&candidates).map(|i| candidates[i].0.to_owned())
}

/// What applying a synced version must write.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncAction {
    Insert,
    /// Rewrite the stored row; `status_changed` says whether `status_changed_at` moves.
    Update {
        status_changed: bool,
    },
    Unchanged,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncPlan {
    pub action: SyncAction,
    /// The version holding `is_latest` afterwards.
    pub latest: Option<String>,
}

/// Decide how a version reported by `source` is applied (see [`super::synced`]): `stored_json` is the
/// stored document of the same version, if it exists. A name owned by another source or published here is
/// a conflict (`Err` with the owner); the version cap holds for synced servers too (`Err(Refused)`).
pub fn plan_sync(
    existing: &[VersionMeta],
    source: &str,
    v: &super::SyncedVersion,
    stored_json: Option<&str>,
) -> Result<SyncPlan, super::Applied> {
    if let Some(first) = existing.first()
        && first.source.as_deref() != Some(source)
    {
        return Err(super::Applied::Conflict {
            owner: owner(existing).map(str::to_owned),
        });
    }
    let current = existing.iter().find(|r| r.version == v.version);
    let action = match current {
        None if existing.len() >= MAX_VERSIONS_PER_SERVER => {
            return Err(super::Applied::Refused {
                reason: Rejection::TooManyVersions {
                    max: MAX_VERSIONS_PER_SERVER,
                }
                .to_string(),
            });
        }
        None => SyncAction::Insert,
        Some(r)
            if r.status == v.status
                && r.status_message == v.status_message
                && stored_json == Some(v.server_json.as_str()) =>
        {
            SyncAction::Unchanged
        }
        Some(r) => SyncAction::Update {
            status_changed: r.status != v.status,
        },
    };
    let status_after = |r: &VersionMeta| {
        if r.version == v.version {
            v.status
        } else {
            r.status
        }
    };
    let added =
        (action == SyncAction::Insert).then_some((v.version.as_str(), v.published_at, v.status));
    let latest = latest_after(existing, status_after, added);
    Ok(SyncPlan { action, latest })
}

/// An admin edit addresses an existing version that is not deleted (restore it first).
pub fn check_edit_target(existing: &[VersionMeta], name: &str, version: &str) -> StoreResult<()> {
    check_local_write(existing, name)?;
    match existing.iter().find(|r| r.version == version) {
        Some(r) if r.status != Status::Deleted => Ok(()),
        _ => Err(StoreError::NotFound(VERSION_NOT_FOUND.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(v: &str, secs: i64, status: Status, latest: bool) -> VersionMeta {
        VersionMeta {
            version: v.into(),
            published_at: DateTime::from_timestamp(secs, 0).unwrap(),
            status,
            status_message: None,
            is_latest: latest,
            source: None,
        }
    }
    fn takes_latest(rows: &[VersionMeta], version: &str) -> bool {
        plan_publish(rows, "com.example/a", version, at(2))
            .unwrap()
            .new_is_latest
    }

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    #[test]
    fn first_publish_is_latest() {
        let p = plan_publish(&[], "com.example/a", "1.0.0", at(1)).unwrap();
        assert!(p.new_is_latest);
        assert_eq!(p.clear_latest, None);
    }

    #[test]
    fn higher_semver_takes_latest_and_lower_does_not() {
        let rows = [row("1.2.0", 1, Status::Active, true)];
        let p = plan_publish(&rows, "com.example/a", "1.10.0", at(2)).unwrap();
        assert!(p.new_is_latest);
        assert_eq!(p.clear_latest.as_deref(), Some("1.2.0"));
        let p = plan_publish(&rows, "com.example/a", "1.1.9", at(2)).unwrap();
        assert!(!p.new_is_latest);
        assert_eq!(p.clear_latest, None);
    }

    #[test]
    fn prerelease_after_release_and_build_tie_keep_old_latest() {
        let rows = [row("1.2.3", 1, Status::Active, true)];
        assert!(!takes_latest(&rows, "1.2.3-1"));
        assert!(!takes_latest(&rows, "1.2.3+build"));
    }

    #[test]
    fn non_semver_loses_to_semver_latest() {
        let rows = [row("1.0.0", 1, Status::Active, true)];
        assert!(!takes_latest(&rows, "snapshot"));
        let rows = [row("snapshot-a", 1, Status::Active, true)];
        assert!(takes_latest(&rows, "snapshot-b"));
    }

    #[test]
    fn duplicates_count_deleted_rows() {
        let rows = [row("1.0.0", 1, Status::Deleted, true)];
        let e = plan_publish(&rows, "com.example/a", "1.0.0", at(2)).unwrap_err();
        assert!(
            matches!(e, StoreError::Rejected(Rejection::DuplicateVersion { .. })),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "invalid version: cannot publish duplicate version: com.example/a@1.0.0 already exists"
        );
    }

    #[test]
    fn version_cap_counts_every_status() {
        let rows: Vec<_> = (0..MAX_VERSIONS_PER_SERVER)
            .map(|i| row(&format!("0.0.{i}"), 1, Status::Deleted, i == 0))
            .collect();
        let e = plan_publish(&rows, "com.example/a", "9.9.9", at(2)).unwrap_err();
        assert!(
            matches!(e, StoreError::Rejected(Rejection::TooManyVersions { max }) if max == MAX_VERSIONS_PER_SERVER),
            "{e}"
        );
    }

    #[test]
    fn status_change_recomputes_latest_and_keeps_changed_at_for_message_only() {
        let rows = [
            row("1.0.0", 1, Status::Active, false),
            row("2.0.0", 2, Status::Active, true),
        ];
        let del = change(Status::Deleted, Some("gone"));
        let p = plan_status(&rows, Some("2.0.0"), &del, at(3)).unwrap();
        assert_eq!(p.latest.as_deref(), Some("1.0.0"));
        assert_eq!(p.updates[0].status_changed_at, Some(at(3)));

        let mut rows2 = rows.clone();
        rows2[1].status = Status::Deprecated;
        rows2[1].status_message = Some("old".into());
        let dep = change(Status::Deprecated, Some("new text"));
        let p = plan_status(&rows2, Some("2.0.0"), &dep, at(3)).unwrap();
        assert_eq!(p.updates[0].status_changed_at, None);
        // A deprecated version can still be latest.
        assert_eq!(p.latest.as_deref(), Some("2.0.0"));
    }

    fn change(status: Status, message: Option<&str>) -> NewStatus {
        NewStatus {
            status,
            message: message.map(str::to_owned),
        }
    }

    fn rejection(rows: &[VersionMeta], target: Option<&str>, c: &NewStatus) -> Option<Rejection> {
        match plan_status(rows, target, c, at(9)) {
            Err(StoreError::Rejected(r)) => Some(r),
            Ok(_) => None,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn any_status_can_move_to_any_other() {
        for from in [Status::Active, Status::Deprecated, Status::Deleted] {
            for to in [Status::Active, Status::Deprecated, Status::Deleted] {
                let rows = [row("1.0.0", 1, from, true)];
                let got = rejection(&rows, Some("1.0.0"), &change(to, None));
                assert_eq!(got.is_none(), from != to, "{from:?} -> {to:?}");
            }
        }
    }

    #[test]
    fn message_with_active_is_refused_even_when_empty() {
        let mut rows = [row("1.0.0", 1, Status::Deprecated, true)];
        rows[0].status_message = Some("old".into());
        for msg in ["back", ""] {
            let c = change(Status::Active, Some(msg));
            assert_eq!(
                rejection(&rows, Some("1.0.0"), &c),
                Some(Rejection::MessageWithActive)
            );
            // All versions: no version accepts it, so officially it is "no changes".
            assert_eq!(
                rejection(&rows, None, &c),
                Some(Rejection::NoChangesInAnyVersion)
            );
        }
        let p = plan_status(&rows, Some("1.0.0"), &change(Status::Active, None), at(2)).unwrap();
        assert_eq!(p.updates[0].status_message, None);
    }

    #[test]
    fn a_message_change_alone_is_a_change() {
        let with = |m: Option<&str>| {
            let mut r = row("1.0.0", 1, Status::Deprecated, true);
            r.status_message = m.map(str::to_owned);
            [r]
        };
        let dep = |m| change(Status::Deprecated, m);
        assert_eq!(
            rejection(&with(Some("a")), Some("1.0.0"), &dep(Some("a"))),
            Some(Rejection::NoChanges)
        );
        for (stored, sent) in [
            (Some("a"), Some("b")),
            (None, Some("b")),
            (Some("a"), None),
            (Some(""), None),
        ] {
            assert_eq!(rejection(&with(stored), Some("1.0.0"), &dep(sent)), None);
        }
    }

    #[test]
    fn all_versions_rewrite_only_the_versions_that_differ() {
        let mut rows = [
            row("1.0.0", 1, Status::Deprecated, false),
            row("2.0.0", 2, Status::Active, true),
        ];
        rows[0].status_message = Some("use 2".into());
        let p = plan_status(
            &rows,
            None,
            &change(Status::Deprecated, Some("use 2")),
            at(3),
        )
        .unwrap();
        let versions: Vec<_> = p.updates.iter().map(|u| u.version.as_str()).collect();
        assert_eq!(versions, ["2.0.0"]);
    }

    #[test]
    fn no_change_is_rejected_and_missing_version_is_not_found() {
        let rows = [row("1.0.0", 1, Status::Active, true)];
        let act = change(Status::Active, None);
        let e = plan_status(&rows, Some("1.0.0"), &act, at(2)).unwrap_err();
        assert!(
            matches!(e, StoreError::Rejected(Rejection::NoChanges)),
            "{e}"
        );
        let e = plan_status(&rows, None, &act, at(2)).unwrap_err();
        assert!(
            matches!(e, StoreError::Rejected(Rejection::NoChangesInAnyVersion)),
            "{e}"
        );
        assert!(matches!(
            plan_status(&rows, Some("9"), &act, at(2)),
            Err(StoreError::NotFound(_))
        ));
    }

    #[test]
    fn all_deleted_keeps_flag_on_highest_and_a_restore_takes_it() {
        let rows = [
            row("1.0.0", 1, Status::Active, false),
            row("2.0.0", 2, Status::Active, true),
        ];
        let del = change(Status::Deleted, None);
        let p = plan_status(&rows, None, &del, at(3)).unwrap();
        assert_eq!(p.updates.len(), 2);
        assert_eq!(p.latest.as_deref(), Some("2.0.0"));
        let deleted: Vec<_> = rows
            .iter()
            .map(|r| VersionMeta {
                status: Status::Deleted,
                ..r.clone()
            })
            .collect();
        let act = change(Status::Active, None);
        let p = plan_status(&deleted, Some("1.0.0"), &act, at(4)).unwrap();
        assert_eq!(p.latest.as_deref(), Some("1.0.0"));
    }

    #[test]
    fn edit_of_deleted_version_is_not_found() {
        let rows = [row("1.0.0", 1, Status::Deleted, true)];
        assert!(check_edit_target(&rows, "com.example/a", "1.0.0").is_err());
        assert!(check_edit_target(&rows, "com.example/a", "2.0.0").is_err());
    }

    fn synced(version: &str, status: Status) -> crate::store::SyncedVersion {
        crate::store::SyncedVersion {
            name: "com.example/a".into(),
            version: version.into(),
            server_json: format!("{{\"version\":\"{version}\"}}"),
            status,
            status_message: None,
            published_at: at(5),
            upstream_updated_at: None,
        }
    }

    fn owned(v: &str, secs: i64, status: Status, latest: bool, source: &str) -> VersionMeta {
        VersionMeta {
            source: Some(source.into()),
            ..row(v, secs, status, latest)
        }
    }

    #[test]
    fn a_synced_name_refuses_local_writes_and_other_sources() {
        let rows = [owned("1.0.0", 1, Status::Active, true, "upstream")];
        let e = plan_publish(&rows, "com.example/a", "2.0.0", at(2)).unwrap_err();
        assert!(
            matches!(e, StoreError::Rejected(Rejection::OwnedBySource { ref owner, .. }) if owner == "upstream"),
            "{e}"
        );
        assert!(check_edit_target(&rows, "com.example/a", "1.0.0").is_err());
        let v = synced("2.0.0", Status::Active);
        assert_eq!(
            plan_sync(&rows, "other", &v, None),
            Err(crate::store::Applied::Conflict {
                owner: Some("upstream".into())
            })
        );
        let local = [row("1.0.0", 1, Status::Active, true)];
        assert_eq!(
            plan_sync(&local, "upstream", &v, None),
            Err(crate::store::Applied::Conflict { owner: None })
        );
    }

    #[test]
    fn a_synced_version_is_inserted_updated_or_left_and_moves_latest() {
        let v2 = synced("2.0.0", Status::Active);
        let p = plan_sync(&[], "upstream", &v2, None).unwrap();
        assert_eq!(
            (p.action, p.latest.as_deref()),
            (SyncAction::Insert, Some("2.0.0"))
        );
        let rows = [
            owned("1.0.0", 1, Status::Active, false, "upstream"),
            owned("2.0.0", 5, Status::Active, true, "upstream"),
        ];
        let same = plan_sync(&rows, "upstream", &v2, Some(&v2.server_json)).unwrap();
        assert_eq!(same.action, SyncAction::Unchanged);
        let edited = plan_sync(&rows, "upstream", &v2, Some("{}")).unwrap();
        assert_eq!(
            edited.action,
            SyncAction::Update {
                status_changed: false
            }
        );
        let gone = synced("2.0.0", Status::Deleted);
        let p = plan_sync(&rows, "upstream", &gone, Some(&v2.server_json)).unwrap();
        assert_eq!(
            p.action,
            SyncAction::Update {
                status_changed: true
            }
        );
        assert_eq!(
            p.latest.as_deref(),
            Some("1.0.0"),
            "a deleted latest hands the flag on"
        );
    }
}
