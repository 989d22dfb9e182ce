//! Checks of the chart's federation values (`sync.*`, docs/sync.md and docs/helm.md#sync-sources):
//!
//! * every file the server's config.yaml names (`*_file` keys, the `path` of `file` sync sources) is mounted
//!   read-only into the server container, from the Secret/ConfigMap key the values say;
//! * the sync-files ConfigMap rolls the pods (`checksum/sync-files`);
//! * the sync egress rule exists only with `registry`/`git` sources, the sync alerts only with sources;
//! * the schema (also through the umbrella chart) and the render refuse malformed sources.

mod common;

use std::path::PathBuf;

use common::{UMBRELLA, render_with, renders};
use serde_json::Value;

const CHART: &str = "mcp-registry";
const CI_VALUES: &str = "charts/mcp-registry/ci/sync-values.yaml";

fn report(problems: Vec<String>, what: &str) {
    assert!(
        problems.is_empty(),
        "{} {what}:\n  - {}",
        problems.len(),
        problems.join("\n  - ")
    );
}

/// `helm template` of `chart` with `yaml` as its values file.
fn render_yaml(chart: &str, yaml: &str) -> Result<Vec<Value>, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path: PathBuf = dir.path().join("values.yaml");
    std::fs::write(&path, yaml).expect("writing values");
    render_with(chart, &[path], &[])
}

fn rendered(chart: &str, yaml: &str) -> Vec<Value> {
    render_yaml(chart, yaml)
        .unwrap_or_else(|e| panic!("helm template charts/{chart} with\n{yaml}\nfailed:\n{e}"))
}

fn registry_deployment(docs: &[Value]) -> &Value {
    docs.iter()
        .find(|d| {
            d["kind"] == "Deployment"
                && d["metadata"]["labels"]["app.kubernetes.io/name"] == "mcp-registry"
        })
        .expect("the registry's Deployment")
}

fn find<'a>(docs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

/// The server's config.yaml (from the ConfigMap its `config` volume names), parsed.
fn server_config(docs: &[Value]) -> Value {
    let pod = &registry_deployment(docs)["spec"]["template"]["spec"];
    let volumes = pod["volumes"].as_array().expect("volumes");
    let name = volumes
        .iter()
        .find(|v| v["name"] == "config")
        .and_then(|v| v["configMap"]["name"].as_str())
        .expect("a config volume");
    let cm = find(docs, "ConfigMap", name).expect("the config ConfigMap");
    serde_norway::from_str(cm["data"]["config.yaml"].as_str().expect("config.yaml"))
        .expect("config.yaml parses")
}

/// Where the server container's file `path` comes from, as "secret NAME/KEY" or "configMap NAME/KEY"; Err
/// when no read-only mount covers it or its volume does not project that file.
fn mounted_file(docs: &[Value], path: &str) -> Result<String, String> {
    let pod = &registry_deployment(docs)["spec"]["template"]["spec"];
    let server = pod["containers"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "server"))
        .ok_or("no server container")?;
    let mounts = server["volumeMounts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mount = mounts
        .iter()
        .filter(|m| {
            let mp = m["mountPath"].as_str().unwrap_or_default();
            path == mp || path.starts_with(&format!("{mp}/"))
        })
        .max_by_key(|m| m["mountPath"].as_str().unwrap_or_default().len())
        .ok_or_else(|| format!("{path}: no volume mount covers it"))?;
    let mp = mount["mountPath"].as_str().unwrap_or_default();
    if mount["readOnly"] != true {
        return Err(format!("{path}: mounted by {mp}, which is not readOnly"));
    }
    let rel = if path == mp {
        mount["subPath"].as_str().unwrap_or_default().to_string()
    } else {
        path[mp.len() + 1..].to_string()
    };
    let volume = pod["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == mount["name"]))
        .ok_or_else(|| format!("{path}: no volume {}", mount["name"]))?;
    let item_of = |kind: &str, src: &Value| -> Option<String> {
        let name = src["name"].as_str().unwrap_or_default();
        match src["items"].as_array() {
            Some(items) => items
                .iter()
                .find(|i| i["path"] == rel.as_str())
                .map(|i| format!("{kind} {name}/{}", i["key"].as_str().unwrap_or_default())),
            // A whole ConfigMap/Secret: its keys are the files (checked when the chart renders it).
            None => {
                let rendered = find(
                    docs,
                    if kind == "secret" {
                        "Secret"
                    } else {
                        "ConfigMap"
                    },
                    name,
                );
                let has = |d: &Value| {
                    ["data", "stringData"]
                        .iter()
                        .any(|k| d[k].get(&rel).is_some())
                };
                rendered
                    .is_none_or(has)
                    .then(|| format!("{kind} {name}/{rel}"))
            }
        }
    };
    let found = if let Some(sources) = volume["projected"]["sources"].as_array() {
        sources.iter().find_map(|s| {
            (s["secret"]
                .is_object()
                .then(|| item_of("secret", &s["secret"])))
            .or_else(|| {
                s["configMap"]
                    .is_object()
                    .then(|| item_of("configMap", &s["configMap"]))
            })
            .flatten()
        })
    } else if volume["secret"].is_object() {
        let mut s = volume["secret"].clone();
        s["name"] = s["secretName"].clone();
        item_of("secret", &s)
    } else if volume["configMap"].is_object() {
        item_of("configMap", &volume["configMap"])
    } else {
        None
    };
    found.ok_or_else(|| {
        format!(
            "{path}: volume {} (at {mp}) has no file {rel}",
            mount["name"]
        )
    })
}

/// The files config.yaml names: every non-empty `*_file` key, and the `path` of each `file` sync source.
fn config_files(config: &Value, at: &str, out: &mut Vec<(String, String)>) {
    match config {
        Value::Object(map) => {
            for (k, v) in map {
                let here = format!("{at}.{k}");
                match v.as_str() {
                    Some(s) if k.ends_with("_file") && !s.is_empty() => {
                        out.push((here, s.to_string()))
                    }
                    Some(s) if k == "path" && map.get("type") == Some(&Value::from("file")) => {
                        out.push((here, s.to_string()))
                    }
                    _ => config_files(v, &here, out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                config_files(v, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_file_the_server_config_names_is_mounted_into_the_server() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for r in renders() {
        if !r.docs.iter().any(|d| {
            d["kind"] == "Deployment" && d["metadata"]["labels"]["app.kubernetes.io/name"] == CHART
        }) {
            continue;
        }
        let mut files = Vec::new();
        config_files(&server_config(&r.docs), "", &mut files);
        for (key, path) in files {
            checked += 1;
            if let Err(e) = mounted_file(&r.docs, &path) {
                problems.push(format!("{} {key}: {e}", r.id()));
            }
        }
    }
    assert!(checked > 0, "no config names a file");
    report(problems, "files named by config.yaml but not mounted");
}

#[test]
fn sync_sources_render_with_their_token_ca_and_file_mounted() {
    let r = renders()
        .iter()
        .find(|r| r.chart == CHART && r.values == CI_VALUES)
        .unwrap_or_else(|| panic!("{CI_VALUES} is not in scripts/chart-matrix"));
    let config = server_config(&r.docs);
    assert_eq!(config["sync"]["lease_ttl"], "30s", "{config}");
    let sources = config["sync"]["sources"].as_array().expect("sync.sources");
    let source = |name: &str| {
        sources
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no source {name}: {sources:?}"))
    };
    for s in sources {
        for chart_key in ["tokenSecret", "caConfigMap", "file"] {
            assert!(
                s.get(chart_key).is_none(),
                "{chart_key} reached the server: {s}"
            );
        }
    }
    let want = [
        (
            "upstream",
            "token_file",
            "/etc/mcp-registry/secrets/sync-upstream-token",
            "secret mcp-registry-sync-upstream/token",
        ),
        (
            "upstream",
            "ca_file",
            "/etc/mcp-registry/sync-ca/upstream.crt",
            "configMap corporate-ca/ca.crt",
        ),
        (
            "team-servers",
            "token_file",
            "/etc/mcp-registry/secrets/sync-team-servers-token",
            "secret git-token/token",
        ),
        (
            "platform-catalogue",
            "path",
            "/etc/mcp-registry/sync/platform.yaml",
            "configMap mcp-registry-sync-files/platform.yaml",
        ),
    ];
    for (name, key, path, from) in want {
        assert_eq!(source(name)[key], path, "{name}.{key}");
        assert_eq!(
            mounted_file(&r.docs, path).as_deref(),
            Ok(from),
            "{name}.{key}"
        );
    }
    assert_eq!(source("team-servers")["path"], "catalogue/servers.json");
    assert_eq!(
        source("upstream")["url"],
        "https://registry.internal.example.com"
    );
    // Without sources, no sync section at all (the server's defaults).
    let plain = rendered(CHART, "{}");
    assert!(server_config(&plain).get("sync").is_none());
}

#[test]
fn the_sync_files_configmap_rolls_the_pods() {
    let files = |content: &str| {
        format!(
            "sync:\n  files:\n    a.json: '{content}'\n  sources:\n    - {{name: local, type: file, file: a.json}}\n"
        )
    };
    let a = rendered(CHART, &files("[]"));
    let b = rendered(CHART, &files("[ ]"));
    let ann = |docs: &[Value]| {
        registry_deployment(docs)["spec"]["template"]["metadata"]["annotations"]["checksum/sync-files"].clone()
    };
    assert!(ann(&a).is_string(), "no checksum/sync-files annotation");
    assert_ne!(
        ann(&a),
        ann(&b),
        "a change of sync.files does not roll the pods"
    );
    let cm = find(&a, "ConfigMap", "mcp-registry-sync-files").expect("the sync-files ConfigMap");
    assert_eq!(cm["data"]["a.json"], "[]");
    let plain = rendered(CHART, "{}");
    assert!(ann(&plain).is_null());
    assert!(find(&plain, "ConfigMap", "mcp-registry-sync-files").is_none());
}

fn egress_ports(docs: &[Value]) -> Vec<(Vec<i64>, Value)> {
    let np = find(docs, "NetworkPolicy", "mcp-registry").expect("the registry's NetworkPolicy");
    np["spec"]["egress"]
        .as_array()
        .expect("egress")
        .iter()
        .map(|r| {
            let ports = r["ports"].as_array().cloned().unwrap_or_default();
            (
                ports.iter().filter_map(|p| p["port"].as_i64()).collect(),
                r["to"].clone(),
            )
        })
        .collect()
}

#[test]
fn the_sync_egress_rule_exists_only_with_registry_or_git_sources() {
    let file_only = "sync:\n  files: {a.json: '[]'}\n  sources:\n    - {name: local, type: file, file: a.json}\n";
    let rules = egress_ports(&rendered(CHART, file_only));
    assert!(
        !rules
            .iter()
            .any(|(p, _)| p.contains(&443) || p.contains(&80)),
        "a file source opened egress: {rules:?}"
    );
    let registry =
        "sync:\n  sources:\n    - {name: up, type: registry, url: 'https://registry.example'}\n";
    let rules = egress_ports(&rendered(CHART, registry));
    let sync_rule = rules.iter().find(|(p, _)| p == &vec![443, 80]);
    assert!(
        sync_rule.is_some_and(|(_, to)| to.is_null()),
        "no rule to anywhere on 443 and 80: {rules:?}"
    );
    let git = "sync:\n  sources:\n    - {name: team, type: git, repository: 'https://git.example/r.git', path: s.json}\n\
               networkPolicy:\n  egress:\n    syncPorts: [8443]\n    syncTo:\n      - ipBlock: {cidr: 192.0.2.0/24}\n";
    let rules = egress_ports(&rendered(CHART, git));
    let (_, to) = rules
        .iter()
        .find(|(p, _)| p == &vec![8443])
        .unwrap_or_else(|| panic!("no rule on syncPorts: {rules:?}"));
    assert_eq!(to[0]["ipBlock"]["cidr"], "192.0.2.0/24", "{rules:?}");
}

#[test]
fn the_schema_and_the_render_refuse_malformed_sources() {
    let cases = [
        (
            "{name: up, type: ftp, url: 'https://a'}",
            "/sync/sources/0/type",
        ),
        (
            "{name: Up_Stream, type: registry, url: 'https://a'}",
            "/sync/sources/0/name",
        ),
        ("{name: up, type: registry}", "missing property 'url'"),
        (
            "{name: up, type: registry, url: 'ftp://a'}",
            "/sync/sources/0/url",
        ),
        (
            "{type: registry, url: 'https://a'}",
            "missing property 'name'",
        ),
        (
            "{name: team, type: git, path: s.json}",
            "missing property 'repository'",
        ),
        (
            "{name: team, type: git, repository: 'ssh://git@host/r.git', path: s.json}",
            "/sync/sources/0/repository",
        ),
        ("{name: local, type: file}", "/sync/sources/0"),
        (
            "{name: up, type: registry, url: 'https://a', file: a.json}",
            "/sync/sources/0",
        ),
        (
            "{name: up, type: registry, url: 'https://a', token_file: /t}",
            "token_file",
        ),
        (
            "{name: up, type: registry, url: 'https://a', page_size: 500}",
            "/sync/sources/0/page_size",
        ),
        (
            "{name: up, type: registry, url: 'https://a', tokenSecret: {key: t}}",
            "missing property 'name'",
        ),
    ];
    let mut problems = Vec::new();
    for (source, want) in cases {
        let body = format!("sync:\n  sources:\n    - {source}\n");
        let nested = format!(
            "mcp-registry:\n{}",
            body.lines().map(|l| format!("  {l}\n")).collect::<String>()
        );
        for (chart, yaml) in [(CHART, body.clone()), (UMBRELLA, nested)] {
            match render_yaml(chart, &yaml) {
                Ok(_) => problems.push(format!("charts/{chart} accepted {source}")),
                Err(e) if !(e.contains("schema") && e.contains(want)) => problems.push(format!(
                    "charts/{chart} {source}: expected {want:?} in:\n{e}"
                )),
                Err(_) => {}
            }
        }
    }
    // What the schema cannot say: unique names, `file` naming a key of sync.files.
    let twice = "sync:\n  sources:\n    - {name: up, type: registry, url: 'https://a'}\n    - {name: up, type: registry, url: 'https://b'}\n";
    let missing = "sync:\n  files: {a.json: '[]'}\n  sources:\n    - {name: local, type: file, file: b.json}\n";
    for (yaml, want) in [
        (twice, "\"up\" is used by two sources"),
        (missing, "\"b.json\" is not a key of sync.files"),
    ] {
        match render_yaml(CHART, yaml) {
            Ok(_) => problems.push(format!("accepted:\n{yaml}")),
            Err(e) if !e.contains(want) => problems.push(format!("expected {want:?} in:\n{e}")),
            Err(_) => {}
        }
    }
    report(problems, "malformed sources not refused as expected");
}

fn alerts(docs: &[Value]) -> Vec<(String, String)> {
    docs.iter()
        .filter(|d| d["kind"] == "PrometheusRule")
        .flat_map(|d| d["spec"]["groups"].as_array().cloned().unwrap_or_default())
        .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|r| {
            Some((
                r["alert"].as_str()?.to_string(),
                r["expr"].as_str()?.to_string(),
            ))
        })
        .collect()
}

#[test]
fn the_sync_alerts_exist_only_with_sources() {
    let rule = "metrics:\n  prometheusRule:\n    enabled: true\n";
    let without = alerts(&rendered(CHART, rule));
    assert!(
        without.iter().any(|(a, _)| a == "McpRegistryDown"),
        "{without:?}"
    );
    assert!(
        !without
            .iter()
            .any(|(a, _)| a.starts_with("McpRegistrySync")),
        "{without:?}"
    );
    let with = alerts(&rendered(
        CHART,
        &format!(
            "{rule}sync:\n  staleAfterIntervals: 5\n  sources:\n    - {{name: up, type: registry, url: 'https://a'}}\n"
        ),
    ));
    let expr = |name: &str| {
        with.iter()
            .find(|(a, _)| a == name)
            .map(|(_, e)| e.clone())
            .unwrap_or_else(|| panic!("no {name}: {with:?}"))
    };
    let stale = expr("McpRegistrySyncStale");
    for part in [
        "max by (source) (mcp_registry_sync_last_success_timestamp_seconds{",
        "5 * max by (source) (mcp_registry_sync_interval_seconds{",
        "} > 0)",
    ] {
        assert!(stale.contains(part), "{part:?} not in {stale}");
    }
    let failing = expr("McpRegistrySyncFailing");
    for part in [
        "outcome=\"error\"}[30m]",
        "unless on (source)",
        "sum by (source)",
    ] {
        assert!(failing.contains(part), "{part:?} not in {failing}");
    }
}

#[test]
fn sync_values_pass_through_the_umbrella_chart() {
    let yaml = "mcp-registry:\n  sync:\n    files: {a.json: '[]'}\n    sources:\n      \
                - {name: local, type: file, file: a.json}\n      \
                - {name: up, type: registry, url: 'https://a', tokenSecret: {name: '{{ .Release.Name }}-credentials', key: sync-token}}\n";
    let docs = rendered(UMBRELLA, yaml);
    let config = server_config(&docs);
    let sources = config["sync"]["sources"].as_array().expect("sync.sources");
    assert_eq!(sources.len(), 2, "{config}");
    assert_eq!(sources[0]["path"], "/etc/mcp-registry/sync/a.json");
    assert_eq!(
        sources[1]["token_file"],
        "/etc/mcp-registry/secrets/sync-up-token"
    );
    assert_eq!(
        mounted_file(&docs, "/etc/mcp-registry/secrets/sync-up-token").as_deref(),
        Ok("secret mcp-registry-credentials/sync-token")
    );
    assert!(find(&docs, "ConfigMap", "mcp-registry-sync-files").is_some());
}
