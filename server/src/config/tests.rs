use super::*;
use std::io::Write;

fn file(yaml: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(yaml.as_bytes()).unwrap();
    f
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_run_sqlite_on_loopback() {
    let c = Config::load_from(None, &[], &Overrides::default()).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:8080");
    assert_eq!(c.storage.backend, Backend::Sqlite);
    assert!(c.storage.migrate_on_start);
    assert_eq!(c.rate_limit.writes_per_ip_per_minute, 180);
    assert_eq!(c.rate_limit.reads_per_ip_per_minute, 3000);
}

#[test]
fn precedence_is_defaults_file_env_flags() {
    let f = file(
        "server:\n  listen: 0.0.0.0:9000\n  shutdown_grace: 10s\nstorage:\n  sqlite:\n    path: /tmp/x.db\n",
    );
    let e = env(&[
        ("MCP_REGISTRY_SERVER_LISTEN", "0.0.0.0:9001"),
        (
            "MCP_REGISTRY_SERVER_CORS_ALLOWED_ORIGINS",
            "https://a, https://b",
        ),
    ]);
    let c = Config::load_from(Some(f.path()), &e, &Overrides::default()).unwrap();
    assert_eq!(c.server.listen, "0.0.0.0:9001");
    assert_eq!(c.server.shutdown_grace, Duration::from_secs(10));
    assert_eq!(c.storage.sqlite.path, PathBuf::from("/tmp/x.db"));
    assert_eq!(
        c.server.cors_allowed_origins,
        vec!["https://a", "https://b"]
    );
    let o = Overrides {
        listen: Some("127.0.0.1:1".into()),
        ..Default::default()
    };
    let c = Config::load_from(Some(f.path()), &e, &o).unwrap();
    assert_eq!(c.server.listen, "127.0.0.1:1");
}

#[test]
fn config_file_from_env_variable() {
    let f = file("log:\n  format: text\n");
    let e = env(&[("MCP_REGISTRY_CONFIG", f.path().to_str().unwrap())]);
    let c = Config::load_from(None, &e, &Overrides::default()).unwrap();
    assert_eq!(c.log.format, LogFormat::Text);
}

#[test]
fn unknown_file_key_is_named_with_a_suggestion() {
    let f = file("server:\n  listn: 0.0.0.0:1\n");
    let err = Config::load_from(Some(f.path()), &[], &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown key 'server.listn'"), "{err}");
    assert!(err.contains("Did you mean 'listen'"), "{err}");
    let f = file("storage:\n  postgres:\n    ur1: x\n");
    let err = Config::load_from(Some(f.path()), &[], &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("'storage.postgres.ur1'"), "{err}");
}

#[test]
fn unknown_token_field_is_rejected() {
    let f = file("auth:\n  tokens:\n    - name: a\n      sha256: abc\n      namespace: [x]\n");
    let err = Config::load_from(Some(f.path()), &[], &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("namespace"), "{err}");
}

#[test]
fn unknown_env_variable_is_rejected_with_a_suggestion() {
    let e = env(&[("MCP_REGISTRY_SERVER_LISTN", "x")]);
    let err = Config::load_from(None, &e, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("MCP_REGISTRY_SERVER_LISTN"), "{err}");
    assert!(err.contains("MCP_REGISTRY_SERVER_LISTEN"), "{err}");
}

#[test]
fn typed_env_values_are_checked() {
    let e = env(&[("MCP_REGISTRY_METRICS_ENABLED", "maybe")]);
    let err = Config::load_from(None, &e, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected true or false"), "{err}");
    let e = env(&[("MCP_REGISTRY_SERVER_REQUEST_TIMEOUT", "soon")]);
    let err = Config::load_from(None, &e, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a duration"), "{err}");
    let e = env(&[("MCP_REGISTRY_STORAGE_BACKEND", "oracle")]);
    assert!(Config::load_from(None, &e, &Overrides::default()).is_err());
}

#[test]
fn env_names_are_unique() {
    let d = serde_json::to_value(Config::default()).unwrap();
    let keys = env::env_keys(&d);
    let mut names: Vec<_> = keys.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), keys.len());
}

#[test]
fn every_key_is_documented() {
    let doc = include_str!("../../../docs/configuration.md");
    let d = serde_json::to_value(Config::default()).unwrap();
    for (_, path) in env::env_keys(&d) {
        assert!(
            doc.contains(&format!("`{path}`")),
            "docs/configuration.md does not document `{path}`"
        );
    }
    assert!(doc.contains("`auth.tokens`"));
}

#[test]
fn postgres_backend_needs_a_url_and_readable_secret_files() {
    let f = file("storage:\n  backend: postgres\n");
    let err = Config::load_from(Some(f.path()), &[], &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("storage.postgres.url"), "{err}");
    let f = file(
        "storage:\n  backend: postgres\n  postgres:\n    url: postgres://a@b/c\n    password_file: /nonexistent/pw\n",
    );
    // Loading does not read secret files; resolving reads each once and names the key.
    let config = Config::load_from(Some(f.path()), &[], &Overrides::default()).unwrap();
    let err = resolve_err(config);
    assert!(
        err.contains("storage.postgres.password_file") && err.contains("/nonexistent/pw"),
        "{err}"
    );
}

#[test]
fn bad_listen_address_is_explained() {
    let e = env(&[("MCP_REGISTRY_SERVER_LISTEN", "localhost")]);
    let err = Config::load_from(None, &e, &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("server.listen"), "{err}");
}

#[test]
fn redaction_hides_passwords() {
    let mut c = Config::default();
    c.storage.postgres.url = "postgres://app:s3cret@db:5432/r".into();
    let y = c.redacted_yaml();
    assert!(!y.contains("s3cret"));
    assert!(y.contains("REDACTED"));
}

#[test]
fn redaction_covers_multi_host_uris() {
    assert_eq!(
        redact_url("mongodb://app:pw1@h1:27017,h2:27017/db?replicaSet=rs0"),
        "mongodb://app:REDACTED@h1:27017,h2:27017/db?replicaSet=rs0"
    );
    assert_eq!(
        redact_url("redis://:secret@cache:6379/0"),
        "redis://:REDACTED@cache:6379/0"
    );
    assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
}

#[test]
fn a_log_level_typo_is_refused() {
    let e = env(&[("MCP_REGISTRY_LOG_LEVEL", "inf0")]);
    assert!(Config::load_from(None, &e, &Overrides::default()).is_err());
    for ok in ["info", "WARN", "mcp_registry=debug,info"] {
        let e = env(&[("MCP_REGISTRY_LOG_LEVEL", ok)]);
        assert!(
            Config::load_from(None, &e, &Overrides::default()).is_ok(),
            "{ok}"
        );
    }
    let e = env(&[("MCP_REGISTRY_CACHE_REDIS_URL", "bogus://x")]);
    assert!(
        Config::load_from(None, &e, &Overrides::default())
            .unwrap_err()
            .to_string()
            .contains("cache.redis_url")
    );
}

fn resolve_err(c: Config) -> String {
    match c.resolve() {
        Ok(_) => panic!("resolve succeeded"),
        Err(e) => e.to_string(),
    }
}

fn with_tokens(tokens: Vec<TokenConfig>) -> Config {
    let mut c = Config::default();
    c.auth.tokens = tokens;
    c
}

#[test]
fn secret_files_are_read_at_resolve_with_the_key_in_errors() {
    let pw = file("s3cret\n");
    let mut c = Config::default();
    c.storage.backend = Backend::Mongodb;
    c.storage.mongodb.uri = "mongodb://u@db/x".into();
    c.storage.mongodb.password_file = pw.path().to_str().unwrap().into();
    c.cache.redis_url = "redis://cache:6379".into();
    c.cache.redis_password_file = pw.path().to_str().unwrap().into();
    let s = c.clone().resolve().unwrap();
    match &s.store {
        StoreTarget::Mongo { password, .. } => assert_eq!(password.as_deref(), Some("s3cret")),
        _ => panic!("not mongo"),
    }
    assert_eq!(s.redis.unwrap().password.as_deref(), Some("s3cret"));
    let empty = file("");
    c.cache.redis_password_file = empty.path().to_str().unwrap().into();
    let err = resolve_err(c);
    assert!(
        err.contains("cache.redis_password_file") && err.contains("is empty"),
        "{err}"
    );
}

#[test]
fn a_url_file_wins_over_the_inline_url() {
    let url = file("postgres://from-file@db/reg\n");
    let mut c = Config::default();
    c.storage.backend = Backend::Postgres;
    c.storage.postgres.url = "postgres://inline@db/reg".into();
    c.storage.postgres.url_file = url.path().to_str().unwrap().into();
    match c.resolve().unwrap().store {
        StoreTarget::Postgres { app, migration, .. } => {
            assert_eq!(app.get_username(), "from-file");
            assert!(migration.is_none());
        }
        _ => panic!("not postgres"),
    }
}

#[test]
fn token_file_is_hashed_at_resolve() {
    let t = file("from-file\n");
    let s = with_tokens(vec![TokenConfig {
        name: "admin".into(),
        token_file: t.path().to_str().unwrap().into(),
        admin: true,
        ..Default::default()
    }])
    .resolve()
    .unwrap();
    assert!(s.tokens.authorize("Bearer from-file").unwrap().admin);
}

#[test]
fn tokens_file_adds_entries_and_names_itself_in_errors() {
    let list = file(&format!(
        "- name: ci\n  sha256: {}\n  namespaces: [com.example/*]\n",
        crate::auth::sha256_hex("ci-token")
    ));
    let mut c = Config::default();
    c.auth.tokens_file = list.path().to_str().unwrap().into();
    let s = c.clone().resolve().unwrap();
    assert!(
        s.tokens
            .authorize("Bearer ci-token")
            .unwrap()
            .can_publish("com.example/x")
    );
    let bad = file("name: not-a-list\n");
    c.auth.tokens_file = bad.path().to_str().unwrap().into();
    let err = resolve_err(c);
    assert!(
        err.contains("auth.tokens_file") && err.contains("YAML list"),
        "{err}"
    );
}

#[test]
fn bad_token_entries_are_precise_errors() {
    let entry = |sha256: &str, namespaces: &[&str]| TokenConfig {
        name: "x".into(),
        sha256: sha256.into(),
        namespaces: namespaces.iter().map(|n| n.to_string()).collect(),
        ..Default::default()
    };
    let err = resolve_err(with_tokens(vec![entry("zz", &["a/*"])]));
    assert!(err.contains("64 hex"), "{err}");
    let err = resolve_err(with_tokens(vec![entry(&crate::auth::sha256_hex("a"), &[])]));
    assert!(err.contains("grants nothing"), "{err}");
    let same = crate::auth::sha256_hex("a");
    let err = resolve_err(with_tokens(vec![
        entry(&same, &["a/*"]),
        entry(&same, &["b/*"]),
    ]));
    assert!(err.contains("same secret"), "{err}");
    let err = resolve_err(with_tokens(vec![entry("", &["a/*"])]));
    assert!(err.contains("exactly one of sha256 or token_file"), "{err}");
}
