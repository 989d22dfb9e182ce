//! The smoke checks and the data checks after an upgrade or rollback, through the workspace's one API client
//! (`mcp-registry-client`). Every call has a per-request timeout; a wrong status or body is an error naming
//! the request and the answer.

use k8s_openapi::api::core::v1::Secret;
use kube::{Api, Client};
use mcp_registry_client::RegistryClient;
pub use mcp_registry_client::{SCHEMA, encode_name};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

pub struct Registry {
    client: RegistryClient,
}

/// The server published by the smoke check, whose data must survive upgrade and rollback.
#[derive(Debug, Clone)]
pub struct Published {
    pub name: String,
}

impl Published {
    pub fn latest_path(&self) -> String {
        format!("/v0.1/servers/{}/versions/latest", encode_name(&self.name))
    }
    pub fn versions_path(&self) -> String {
        format!("/v0.1/servers/{}/versions", encode_name(&self.name))
    }
}

/// The admin token from the stack's credentials Secret (`<release>-credentials`, key `admin-token`).
pub async fn admin_token(client: &Client, ns: &str, release: &str) -> anyhow::Result<String> {
    let name = format!("{release}-credentials");
    let s = Api::<Secret>::namespaced(client.clone(), ns)
        .get(&name)
        .await?;
    let bytes = s
        .data
        .as_ref()
        .and_then(|d| d.get("admin-token"))
        .ok_or_else(|| anyhow::anyhow!("secret {name} has no key admin-token"))?;
    Ok(String::from_utf8(bytes.0.clone())?.trim().to_string())
}

impl Registry {
    pub fn new(base: impl Into<String>, token: Option<String>) -> anyhow::Result<Registry> {
        crate::init_crypto();
        Ok(Registry {
            client: RegistryClient::new(base, token, Duration::from_secs(10))?,
        })
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        expect: u16,
    ) -> anyhow::Result<Value> {
        self.client.call(method, path, body.as_ref(), expect).await
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.client.get(path).await
    }

    pub async fn readyz(&self) -> anyhow::Result<Value> {
        self.get("/readyz").await
    }

    /// A minimal server.json for `name` at `version`.
    pub fn server_doc(name: &str, version: &str) -> Value {
        json!({"$schema": SCHEMA, "name": name, "description": "e2e test server", "version": version})
    }

    /// The scenario-1 smoke: publish two versions, then list, get latest, versions, search and a status
    /// change, each checked.
    pub async fn smoke(&self, name: &str) -> anyhow::Result<Published> {
        let p = Published {
            name: name.to_string(),
        };
        self.get("/healthz").await?;
        for v in ["1.0.0", "1.1.0"] {
            let r = self
                .call(
                    Method::POST,
                    "/v0.1/publish",
                    Some(Self::server_doc(name, v)),
                    200,
                )
                .await?;
            anyhow::ensure!(
                r["server"]["name"] == name && r["server"]["version"] == v,
                "publish {v}: {r}"
            );
        }
        // Republishing a version is refused: the store keeps versions immutable.
        self.call(
            Method::POST,
            "/v0.1/publish",
            Some(Self::server_doc(name, "1.1.0")),
            400,
        )
        .await?;
        let list = self.get("/v0.1/servers?version=latest&limit=100").await?;
        let found = list["servers"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["server"]["name"] == name);
        anyhow::ensure!(found, "list (latest) does not contain {name}: {list}");
        let search = self
            .get(&format!("/v0.1/servers?search={}", encode_name(name)))
            .await?;
        anyhow::ensure!(
            search["metadata"]["count"] == 2,
            "search {name}: expected 2 versions: {search}"
        );
        let body = json!({"status": "deprecated", "statusMessage": "e2e"});
        let path = format!("/v0.1/servers/{}/versions/1.0.0/status", encode_name(name));
        let r = self.call(Method::PATCH, &path, Some(body), 200).await?;
        anyhow::ensure!(
            r["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == "deprecated",
            "status change not applied: {r}"
        );
        self.verify(&p).await?;
        Ok(p)
    }

    /// The data the smoke left: latest is 1.1.0, two versions, 1.0.0 deprecated (status changes persist too).
    pub async fn verify(&self, p: &Published) -> anyhow::Result<()> {
        let latest = self.get(&p.latest_path()).await?;
        anyhow::ensure!(
            latest["server"]["version"] == "1.1.0",
            "latest of {} is not 1.1.0: {latest}",
            p.name
        );
        let versions = self.get(&p.versions_path()).await?;
        anyhow::ensure!(
            versions["metadata"]["count"] == 2,
            "{}: expected 2 versions: {versions}",
            p.name
        );
        let old = self
            .get(&format!(
                "/v0.1/servers/{}/versions/1.0.0",
                encode_name(&p.name)
            ))
            .await?;
        anyhow::ensure!(
            old["_meta"]["io.modelcontextprotocol.registry/official"]["status"] == "deprecated",
            "1.0.0 lost its status: {old}"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_encoded() {
        assert_eq!(
            encode_name("io.example.e2e/srv-1"),
            "io.example.e2e%2Fsrv-1"
        );
        let p = Published {
            name: "a.b/c".into(),
        };
        assert_eq!(p.latest_path(), "/v0.1/servers/a.b%2Fc/versions/latest");
    }
}
