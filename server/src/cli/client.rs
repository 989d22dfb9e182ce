//! Client-side commands: `validate`, `healthcheck` and `smoke`. They ship in the server image so probes,
//! `helm test` hooks and operators need no other tool (the image has no shell and no curl).

use crate::validation;
use clap::Args;
use mcp_registry_client::RegistryClient;
use serde_json::{Value, json};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

pub fn validate_file(path: &Path) -> anyhow::Result<ExitCode> {
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())?
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
    };
    let json: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{} is not valid JSON: {e}", path.display()))?;
    let findings = validation::validate_all(&json);
    for w in &findings.warnings {
        println!("warning  {}: {}", w.location, w.message);
    }
    for e in &findings.errors {
        println!("error    {}: {}", e.location, e.message);
    }
    if findings.errors.is_empty() {
        println!("{}: valid", path.display());
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{}: {} error(s)", path.display(), findings.errors.len());
        Ok(ExitCode::from(1))
    }
}

fn http_client(timeout: Duration) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("mcp-registry/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

pub async fn healthcheck(url: &str, timeout: Duration) -> anyhow::Result<ExitCode> {
    let client = http_client(timeout)?;
    match client.get(url).send().await {
        Ok(r) if r.status().is_success() => Ok(ExitCode::SUCCESS),
        Ok(r) => {
            eprintln!("{url}: HTTP {}", r.status());
            Ok(ExitCode::from(1))
        }
        Err(e) => {
            eprintln!("{url}: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

#[derive(Args, Debug)]
pub struct SmokeArgs {
    /// Base URL of the registry, e.g. http://mcp-registry:8080
    #[arg(long)]
    pub url: String,
    /// File holding a bearer token allowed to publish under the smoke namespace.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<String>,
    /// Also publish a uniquely named server and exercise get, versions, search and status.
    #[arg(long)]
    pub publish: bool,
    /// Namespace for the published test server.
    #[arg(long, default_value = "io.example.smoke")]
    pub namespace: String,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

async fn step<T>(
    name: &str,
    f: impl std::future::Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    let start = Instant::now();
    let out = f.await;
    match &out {
        Ok(_) => println!("ok    {name} ({} ms)", start.elapsed().as_millis()),
        Err(e) => println!("FAIL  {name}: {e}"),
    }
    out
}

fn check(cond: bool, what: &str) -> anyhow::Result<()> {
    if cond {
        Ok(())
    } else {
        anyhow::bail!("{what}")
    }
}

pub async fn smoke(args: SmokeArgs) -> anyhow::Result<ExitCode> {
    let token = match &args.token_file {
        Some(f) => Some(crate::config::read_secret_file("--token-file", f)?),
        None => None,
    };
    if args.publish && token.is_none() {
        anyhow::bail!("--publish needs --token-file");
    }
    // The CLI's own HTTP client (user agent, and proxies from the environment, which a smoke against a
    // remote registry may need), through the workspace's one API client.
    let s = RegistryClient::from_http(http_client(args.timeout)?, args.url.as_str(), token);
    let get = reqwest::Method::GET;
    step("GET /healthz", s.call(get.clone(), "/healthz", None, 200)).await?;
    step("GET /readyz", s.call(get.clone(), "/readyz", None, 200)).await?;
    step("GET /v0.1/servers?limit=5", async {
        let v = s
            .call(get.clone(), "/v0.1/servers?limit=5", None, 200)
            .await?;
        check(v["servers"].is_array(), "response has no servers array")
    })
    .await?;
    if args.publish {
        let stamp = chrono::Utc::now().format("%Y%m%d%H%M%S%f");
        let name = format!("{}/smoke-{stamp}", args.namespace);
        let enc = mcp_registry_client::encode_name(&name);
        let doc = |version: &str| {
            json!({
                "$schema": mcp_registry_client::SCHEMA,
                "name": name, "description": "Smoke test server", "version": version,
            })
        };
        step("POST /v0.1/publish 1.0.0", async {
            let v = s
                .call(
                    reqwest::Method::POST,
                    "/v0.1/publish",
                    Some(&doc("1.0.0")),
                    200,
                )
                .await?;
            check(v["server"]["name"] == name, "published name differs")
        })
        .await?;
        step(
            "POST /v0.1/publish 1.1.0",
            s.call(
                reqwest::Method::POST,
                "/v0.1/publish",
                Some(&doc("1.1.0")),
                200,
            ),
        )
        .await?;
        step(
            "POST /v0.1/publish 1.1.0 again is refused",
            s.call(
                reqwest::Method::POST,
                "/v0.1/publish",
                Some(&doc("1.1.0")),
                400,
            ),
        )
        .await?;
        step("GET latest", async {
            let v = s
                .call(
                    get.clone(),
                    &format!("/v0.1/servers/{enc}/versions/latest"),
                    None,
                    200,
                )
                .await?;
            check(v["server"]["version"] == "1.1.0", "latest is not 1.1.0")
        })
        .await?;
        step("GET versions", async {
            let v = s
                .call(
                    get.clone(),
                    &format!("/v0.1/servers/{enc}/versions"),
                    None,
                    200,
                )
                .await?;
            check(v["metadata"]["count"] == 2, "expected 2 versions")
        })
        .await?;
        step("GET search", async {
            let v = s
                .call(
                    get.clone(),
                    &format!("/v0.1/servers?search=smoke-{stamp}"),
                    None,
                    200,
                )
                .await?;
            check(
                v["metadata"]["count"] == 2,
                "search did not find both versions",
            )
        })
        .await?;
        step("PATCH status deprecated", async {
            let body = json!({"status": "deprecated", "statusMessage": "smoke test"});
            let v = s
                .call(
                    reqwest::Method::PATCH,
                    &format!("/v0.1/servers/{enc}/versions/1.0.0/status"),
                    Some(&body),
                    200,
                )
                .await?;
            check(
                v["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == "deprecated",
                "status did not change",
            )
        })
        .await?;
    }
    println!("smoke test passed against {}", s.base());
    Ok(ExitCode::SUCCESS)
}
