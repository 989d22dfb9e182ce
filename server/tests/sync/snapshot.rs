//! The `file` and `git` sources: each new revision is applied, entries that disappear are marked deleted,
//! an unchanged revision writes nothing, a malformed entry is rejected with its reason.

use super::*;
use crate::common::server;
use mcp_registry::config::SourceKind;
use rstest::rstest;
use serde_json::json;
use std::path::Path;
use std::process::Command;

fn entry(name: &str, version: &str, description: &str) -> Value {
    let mut s = server(&format!("com.example/{name}"), version);
    s["description"] = json!(description);
    s
}

fn statuses(list: &[(String, String, String, Value, bool, String, Value)]) -> Vec<String> {
    list.iter()
        .map(|e| format!("{}@{} {}", e.0, e.1, e.2))
        .collect()
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_source_follows_its_file(#[values(Kind::Sqlite, Kind::Postgres)] kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("servers.json");
    let first = json!([
        entry("a", "1.0.0", "A"),
        entry("a", "2.0.0", "A two"),
        entry("b", "1.0.0", "B")
    ]);
    std::fs::write(&file, first.to_string()).unwrap();
    let source = SourceConfig {
        name: "catalogue".into(),
        kind: SourceKind::File,
        path: file.display().to_string(),
        interval: Duration::ZERO,
        ..SourceConfig::default()
    };
    let down = downstream(kind, source).await;
    let r = run_ok(&down, "catalogue").await;
    assert_eq!(counts(&r), (3, 0, 0), "{r}");
    assert!(
        r["revision"].as_str().unwrap().starts_with("sha256:"),
        "{r}"
    );
    let r = run_ok(&down, "catalogue").await;
    assert_eq!(
        (counts(&r), r["unchanged"].as_u64()),
        ((0, 0, 0), Some(0)),
        "the same revision is not re-applied: {r}"
    );

    // The same catalogue in YAML: a@2.0.0 changed, b gone, c new, one malformed entry.
    let yaml = format!(
        "- {}\n- {}\n- {}\n- {{name: not-a-namespaced-name, version: 1.0.0, description: x}}\n",
        entry("a", "1.0.0", "A"),
        entry("a", "2.0.0", "A two, edited"),
        entry("c", "1.0.0", "C"),
    );
    std::fs::write(&file, yaml).unwrap();
    let r = run_ok(&down, "catalogue").await;
    assert_eq!(counts(&r), (1, 1, 1), "{r}");
    assert_eq!(
        (r["unchanged"].as_u64(), r["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    assert_eq!(r["problems"][0]["name"], "not-a-namespaced-name", "{r}");
    assert!(
        r["problems"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("server"),
        "{r}"
    );
    let served = statuses(&listing(&down).await);
    assert_eq!(
        served,
        [
            "com.example/a@1.0.0 active",
            "com.example/a@2.0.0 active",
            "com.example/b@1.0.0 deleted",
            "com.example/c@1.0.0 active"
        ]
    );
    let (st, _) = down
        .get("/v0.1/servers/com.example%2Fb/versions/latest")
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "a removed entry is hidden");
    let (_, a2) = down
        .get("/v0.1/servers/com.example%2Fa/versions/2.0.0")
        .await;
    assert_eq!(a2["server"]["description"], "A two, edited");

    // A file that is not a catalogue: the run fails with the reason and keeps everything.
    std::fs::write(&file, "{\"name\": 1}").unwrap();
    let outcome = sync_now(&down, "catalogue").await;
    assert!(
        outcome["report"]["error"]
            .as_str()
            .unwrap()
            .contains("expected a list"),
        "{outcome}"
    );
    assert_eq!(statuses(&listing(&down).await), served);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("the git source test needs the git CLI to build its repository: {e}")
        });
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn commit(work: &Path, content: &Value, message: &str) {
    std::fs::create_dir_all(work.join("catalogue")).unwrap();
    std::fs::write(
        work.join("catalogue/servers.json"),
        serde_json::to_string_pretty(content).unwrap(),
    )
    .unwrap();
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", message]);
    git(work, &["push", "-q", "origin", "HEAD:main"]);
}

#[rstest]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_git_source_follows_its_commits(#[values(Kind::Sqlite, Kind::Mongo)] kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("catalogue.git");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare"]);
    git(dir.path(), &["clone", "-q", bare.to_str().unwrap(), "work"]);
    commit(
        &work,
        &json!([entry("g1", "1.0.0", "G1"), entry("g2", "1.0.0", "G2")]),
        "two servers",
    );

    let source = SourceConfig {
        name: "git-catalogue".into(),
        kind: SourceKind::Git,
        repository: format!("file://{}", bare.display()),
        git_ref: "main".into(),
        path: "catalogue/servers.json".into(),
        interval: Duration::ZERO,
        ..SourceConfig::default()
    };
    let down = downstream(kind, source).await;
    let r = run_ok(&down, "git-catalogue").await;
    assert_eq!(counts(&r), (2, 0, 0), "{r}");
    let first = r["revision"].as_str().unwrap().to_owned();
    assert!(first.starts_with("git:") && first.len() == 44, "{r}");
    let r = run_ok(&down, "git-catalogue").await;
    assert_eq!(
        (counts(&r), r["revision"].as_str()),
        ((0, 0, 0), Some(first.as_str())),
        "{r}"
    );

    // A commit that adds, changes and removes.
    commit(
        &work,
        &json!([
            entry("g1", "1.0.0", "G1 changed"),
            entry("g3", "1.0.0", "G3")
        ]),
        "change",
    );
    let r = run_ok(&down, "git-catalogue").await;
    assert_eq!(counts(&r), (1, 1, 1), "{r}");
    assert_ne!(r["revision"].as_str(), Some(first.as_str()));
    assert_eq!(
        statuses(&listing(&down).await),
        [
            "com.example/g1@1.0.0 active",
            "com.example/g2@1.0.0 deleted",
            "com.example/g3@1.0.0 active"
        ]
    );
    // The entry comes back in a later commit: restored, not duplicated.
    commit(
        &work,
        &json!([
            entry("g1", "1.0.0", "G1 changed"),
            entry("g2", "1.0.0", "G2"),
            entry("g3", "1.0.0", "G3")
        ]),
        "back",
    );
    let r = run_ok(&down, "git-catalogue").await;
    assert_eq!(
        (counts(&r), r["unchanged"].as_u64()),
        ((0, 1, 0), Some(2)),
        "{r}"
    );
    assert!(statuses(&listing(&down).await).contains(&"com.example/g2@1.0.0 active".to_owned()));
}

#[tokio::test]
async fn a_git_source_names_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let bare = dir.path().join("r.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare"]);
    git(dir.path(), &["clone", "-q", bare.to_str().unwrap(), "work"]);
    commit(&dir.path().join("work"), &json!([]), "empty");
    let source = SourceConfig {
        name: "g".into(),
        kind: SourceKind::Git,
        repository: format!("file://{}", bare.display()),
        path: "nope.json".into(),
        interval: Duration::ZERO,
        ..SourceConfig::default()
    };
    let down = downstream(Kind::Sqlite, source).await;
    let outcome = sync_now(&down, "g").await;
    let err = outcome["report"]["error"].as_str().unwrap();
    assert!(err.contains("no file nope.json at commit"), "{err}");
}
