//! The `mcp-registry` binary as a user runs it: exit codes and messages of every subcommand, and `serve`
//! answering HTTP then stopping cleanly on SIGTERM.

mod common;

use serde_json::json;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_mcp-registry"));
    // The binary rejects unknown MCP_REGISTRY_* variables; keep the test's own environment out of it.
    for (k, _) in std::env::vars() {
        if k.starts_with("MCP_REGISTRY_") {
            c.env_remove(k);
        }
    }
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out = c.output().expect("run mcp-registry");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write(dir: &std::path::Path, name: &str, content: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn validate_file_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let good = write(
        dir.path(),
        "good.json",
        &common::server("com.example/good", "1.0.0").to_string(),
    );
    let (code, out, _) = run(bin().arg("validate").arg(&good));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("valid"));
    let mut bad = common::server("com.example/good", "^1.0.0");
    bad["description"] = json!("");
    let bad = write(dir.path(), "bad.json", &bad.to_string());
    let (code, out, _) = run(bin().arg("validate").arg(&bad));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("version") && out.contains("description"),
        "{out}"
    );
    let (code, _, err) = run(bin().arg("validate").arg(dir.path().join("missing.json")));
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn config_check_names_unknown_keys_and_env_vars() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "c.yaml",
        "server:\n  listen: 0.0.0.0:8080\nstorage:\n  sqllite:\n    path: x\n",
    );
    let (code, _, err) = run(bin().args(["config", "check", "--config"]).arg(&cfg));
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown key 'storage.sqllite'") && err.contains("sqlite"),
        "{err}"
    );
    let ok = write(dir.path(), "ok.yaml", "server:\n  listen: 0.0.0.0:8080\n");
    let (code, out, err) = run(bin().args(["config", "check", "--config"]).arg(&ok));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("valid"));
    let (code, _, err) = run(bin()
        .args(["config", "check"])
        .env("MCP_REGISTRY_LOG_LEVL", "debug"));
    assert_eq!(code, 2);
    assert!(
        err.contains("MCP_REGISTRY_LOG_LEVL") && err.contains("MCP_REGISTRY_LOG_LEVEL"),
        "{err}"
    );
    let (code, out, _) = run(bin().args(["config", "print"]).env(
        "MCP_REGISTRY_STORAGE_POSTGRES_URL",
        "postgres://u:hunter2@h/d",
    ));
    assert_eq!(code, 0);
    assert!(!out.contains("hunter2") && out.contains("listen:"), "{out}");
}

#[test]
fn token_hash_reads_stdin() {
    let mut child = bin()
        .args(["token", "hash"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"s3cret\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        mcp_registry::auth::sha256_hex("s3cret")
    );
}

#[test]
fn import_reports_accepted_and_rejected_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.db");
    let mut no_schema = common::server("com.example/legacy", "0.1.0");
    no_schema.as_object_mut().unwrap().remove("$schema");
    let entries = json!([
        common::server("com.example/one", "1.0.0"),
        common::server("com.example/one", "1.1.0"),
        common::server("com.example/one", "1.1.0"),
        common::server("com.example/two", "latest"),
        no_schema,
    ]);
    let file = write(dir.path(), "seed.json", &entries.to_string());
    let (code, out, err) = run(bin()
        .arg("import")
        .arg(&file)
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db));
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("2 accepted, 3 rejected"), "{out}");
    assert!(
        out.contains(
            "[2] com.example/one@1.1.0: invalid version: cannot publish duplicate version"
        ),
        "{out}"
    );
    assert!(out.contains("[3] com.example/two@latest"), "{out}");
    // --fill-schema accepts the legacy entry; everything else is already there or still invalid.
    let (code, out, _) = run(bin()
        .arg("import")
        .arg(&file)
        .arg("--fill-schema")
        .arg("--allow-rejects")
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 accepted, 4 rejected"), "{out}");
    let (code, out, _) = run(bin()
        .args(["migrate", "status"])
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db));
    assert_eq!(code, 0);
    assert!(out.contains("applied") && !out.contains("pending"), "{out}");
}

#[test]
fn migrate_up_then_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let (code, out, _) = run(bin()
        .args(["migrate", "status"])
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db));
    assert_eq!(code, 1, "pending before the first migrate: {out}");
    let (code, out, _) = run(bin()
        .args(["migrate", "up"])
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db));
    assert_eq!(code, 0);
    assert!(out.contains("applied migrations"), "{out}");
    let (code, out, _) = run(bin()
        .args(["migrate", "up"])
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db));
    assert_eq!(code, 0);
    assert!(out.contains("nothing to apply"), "{out}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn serve_healthcheck_smoke_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let token = write(dir.path(), "token", "smoke-token\n");
    let cfg = write(
        dir.path(),
        "c.yaml",
        &format!(
            "server:\n  shutdown_drain: 200ms\nauth:\n  tokens:\n    - name: smoke\n      token_file: {}\n      namespaces: [\"io.example.smoke/*\"]\nlog:\n  format: json\n",
            token.display()
        ),
    );
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = bin()
        .args(["serve", "--config"])
        .arg(&cfg)
        .args(["--listen", &addr, "--sqlite-path"])
        .arg(dir.path().join("s.db"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let url = format!("http://{addr}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, _, _) = run(bin().args(["healthcheck", "--url", &format!("{url}/readyz")]));
        if code == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let (code, out, err) = run(bin()
        .args(["smoke", "--url", &url, "--publish", "--token-file"])
        .arg(&token));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("smoke test passed"), "{out}");
    let (code, _, err) = run(bin().args(["healthcheck", "--url", &format!("{url}/nope")]));
    assert_eq!(code, 1);
    assert!(err.contains("404"), "{err}");
    // SIGTERM: exits 0 after draining.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let logs = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert!(
        logs.lines()
            .all(|l| l.trim().is_empty() || serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "logs are JSON lines"
    );
    assert!(
        logs.contains("draining") && logs.contains("stopped"),
        "{logs}"
    );
}

#[test]
fn serve_refuses_bad_configuration_with_a_clear_message() {
    let (code, _, err) = run(bin().args(["serve", "--listen", "nonsense"]));
    assert_eq!(code, 2);
    assert!(err.contains("server.listen"), "{err}");
    let (code, _, err) = run(bin()
        .args(["serve", "--backend", "postgres"])
        .env_remove("PGHOST"));
    assert_eq!(code, 2);
    assert!(err.contains("storage.postgres.url"), "{err}");
}

#[test]
fn import_from_an_http_url() {
    // A one-shot HTTP server on loopback serving a JSON array.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let body = json!([common::server("com.example/remote", "1.0.0")]).to_string();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 4096];
        let _ = s.read(&mut buf).unwrap();
        write!(s, "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len()).unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run(bin()
        .arg("import")
        .arg(format!("http://127.0.0.1:{port}/seed.json"))
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", dir.path().join("u.db")));
    server.join().unwrap();
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("1 accepted, 0 rejected"), "{out}");
}

#[test]
fn postgres_password_comes_from_pgpassfile() {
    let url = url::Url::parse(&common::postgres_url()).unwrap();
    let (host, port, user, db) = (
        url.host_str().unwrap().to_owned(),
        url.port().unwrap_or(5432),
        url.username().to_owned(),
        url.path().trim_start_matches('/').to_owned(),
    );
    let password = url
        .password()
        .expect("TEST_POSTGRES_URL carries a password")
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let pgpass = write(
        dir.path(),
        "pgpass",
        &format!("{host}:{port}:{db}:{user}:{password}\n"),
    );
    let mut perms = std::fs::metadata(&pgpass).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o600);
    std::fs::set_permissions(&pgpass, perms).unwrap();
    let no_password = format!("postgres://{user}@{host}:{port}/{db}");
    let status = |pgpass: Option<&std::path::Path>| {
        let mut c = bin();
        c.args(["migrate", "status"])
            .env("MCP_REGISTRY_STORAGE_BACKEND", "postgres")
            .env("MCP_REGISTRY_STORAGE_POSTGRES_URL", &no_password)
            .env_remove("PGPASSWORD")
            .env("HOME", dir.path());
        match pgpass {
            Some(p) => c.env("PGPASSFILE", p),
            None => c.env("PGPASSFILE", dir.path().join("missing")),
        };
        run(&mut c)
    };
    let (code, out, err) = status(Some(&pgpass));
    assert!(
        code == 0 || code == 1,
        "authenticated via PGPASSFILE: {out}{err}"
    );
    let (code, _, err) = status(None);
    assert_eq!(
        code, 2,
        "without a password the connection must fail: {err}"
    );
    assert!(
        err.contains("password") || err.contains("authentication"),
        "{err}"
    );
}

#[test]
fn sync_once_runs_the_configured_sources_and_reports_them() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let catalogue = json!([
        common::server("com.example/one", "1.0.0"),
        common::server("com.example/two", "1.0.0"),
    ]);
    let file = write(dir.path(), "catalogue.json", &catalogue.to_string());
    let config = write(
        dir.path(),
        "config.yaml",
        &format!(
            "sync:\n  sources:\n    - name: catalogue\n      type: file\n      path: {}\n      interval: 0s\n",
            file.display()
        ),
    );
    let once = |extra: &[&str]| {
        run(bin()
            .args(["sync", "--once", "--config"])
            .arg(&config)
            .args(extra)
            .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db))
    };
    let (code, out, err) = once(&[]);
    assert_eq!(code, 0, "{out}{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(line["source"], "catalogue", "{out}");
    assert_eq!(line["result"]["outcome"], "ran", "{out}");
    assert_eq!(line["result"]["report"]["added"], 2, "{out}");
    let (code, out, _) = once(&[]);
    assert_eq!(code, 0);
    assert!(
        out.contains(r#""added":0"#),
        "the same file again writes nothing: {out}"
    );

    // A configuration error is exit 2 (as every command's); a failed run is exit 1.
    let (code, _, err) = once(&["--source", "nope"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no sync source named 'nope' (configured: catalogue)"),
        "{err}"
    );
    // --upstream adds a registry source; an unreachable one is a failed run (exit 1), reported.
    let (code, out, _) = once(&["--source", "upstream", "--upstream", "http://127.0.0.1:9"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(r#""source":"upstream""#) && out.contains("127.0.0.1:9"),
        "{out}"
    );
    let (code, _, err) = run(bin()
        .args(["sync", "--once"])
        .env("MCP_REGISTRY_STORAGE_SQLITE_PATH", &db));
    assert_eq!(code, 2);
    assert!(err.contains("no sync source is configured"), "{err}");
}
