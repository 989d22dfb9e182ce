//! Where the domain proofs' public keys come from: TXT records through a configurable DNS resolver
//! (`auth.exchanges.dns.resolver`, e.g. the cluster's or a private zone's server; the system's
//! `/etc/resolv.conf` by default), and `https://<domain>/.well-known/mcp-registry-auth` with a
//! configurable CA bundle, resolved through the same kind of resolver, never following redirects, and —
//! unless `allow_private_addresses` — never connecting to loopback, private or link-local addresses
//! (the registry must not become a way to probe its own network).

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfigGroup, ResolverConfig, ResolverOpts};
use hickory_resolver::name_server::TokioConnectionProvider;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// A resolver on `server` (`None`: the system's).
pub fn resolver(server: Option<SocketAddr>, timeout: Duration) -> anyhow::Result<TokioResolver> {
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = 1;
    // Proofs must see a key as soon as it is published or removed.
    opts.cache_size = 0;
    let builder = match server {
        Some(addr) => TokioResolver::builder_with_config(
            ResolverConfig::from_parts(
                None,
                vec![],
                NameServerConfigGroup::from_ips_clear(&[addr.ip()], addr.port(), true),
            ),
            TokioConnectionProvider::default(),
        ),
        None => TokioResolver::builder_tokio()
            .map_err(|e| anyhow::anyhow!("reading the system's DNS configuration: {e}"))?,
    };
    Ok(builder.with_options(opts).build())
}

pub struct Dns {
    resolver: TokioResolver,
}

impl Dns {
    pub fn new(resolver: TokioResolver) -> Dns {
        Dns { resolver }
    }

    async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        let found = self
            .resolver
            .txt_lookup(name)
            .await
            .map_err(|e| format!("failed to lookup DNS TXT records: {e}"))?;
        // One string per record; a record's character-strings are joined (keys longer than 255 bytes).
        Ok(found
            .iter()
            .map(|txt| {
                txt.txt_data()
                    .iter()
                    .map(|part| String::from_utf8_lossy(part).into_owned())
                    .collect::<String>()
            })
            .collect())
    }

    /// The apex's TXT strings. When none carries a key but a selector name does, say so: the record must
    /// be at the apex (the official hint).
    pub async fn txt_at_apex(&self, domain: &str) -> Result<Vec<String>, String> {
        let apex = self.txt(domain).await?;
        if apex.iter().any(|s| s.contains("v=MCPv1")) {
            return Ok(apex);
        }
        for selector in ["_mcp-auth", "_mcp-registry"] {
            let name = format!("{selector}.{domain}");
            if let Ok(found) = self.txt(&name).await
                && found.iter().any(|s| s.contains("v=MCPv1"))
            {
                return Err(format!(
                    "no MCPv1 TXT record at {domain:?}, but one was found at {name:?} — MCP DNS auth requires the record at the apex domain, not under a selector"
                ));
            }
        }
        Ok(apex)
    }
}

/// Whether a connection to `ip` is refused unless private addresses are allowed.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64) // 100.64.0.0/10
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_multicast()
                || v6.is_unspecified()
                || (s[0] & 0xfe00) == 0xfc00 // unique local
                || (s[0] & 0xffc0) == 0xfe80 // link local
                || (s[0] & 0xffc0) == 0xfec0 // site local
                || s[0] == 0x2002
                || (s[0] == 0x64 && s[1] == 0xff9b)
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// reqwest's name resolution through our resolver, dropping internal addresses unless allowed.
struct Guarded {
    resolver: TokioResolver,
    allow_private: bool,
}

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (resolver, allow) = (self.resolver.clone(), self.allow_private);
        Box::pin(async move {
            let ips = resolver.lookup_ip(name.as_str()).await?;
            let addrs: Vec<SocketAddr> = ips
                .iter()
                .filter(|ip| allow || !is_internal(*ip))
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if addrs.is_empty() {
                return Err(format!(
                    "dial {}: refusing to connect to private or loopback address",
                    name.as_str()
                )
                .into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The HTTP proof's fetch of `https://<domain>[:port]/.well-known/mcp-registry-auth`.
pub struct WellKnown {
    client: reqwest::Client,
    port: u16,
}

/// Largest accepted key document (the official limit).
const MAX_BODY: usize = 4096;

impl WellKnown {
    pub fn new(
        resolver: TokioResolver,
        ca_pem: Option<&[u8]>,
        port: u16,
        allow_private: bool,
        timeout: Duration,
    ) -> anyhow::Result<WellKnown> {
        let mut b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(3))
            .no_proxy()
            .user_agent(concat!("mcp-registry/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Guarded {
                resolver,
                allow_private,
            }));
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| anyhow::anyhow!("auth.exchanges.http.ca_file: {e}"))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        Ok(WellKnown {
            client: b.build()?,
            port,
        })
    }

    pub async fn fetch(&self, domain: &str) -> Result<String, String> {
        let url = if self.port == 443 {
            format!("https://{domain}/.well-known/mcp-registry-auth")
        } else {
            format!(
                "https://{domain}:{}/.well-known/mcp-registry-auth",
                self.port
            )
        };
        let chain = |e: &reqwest::Error| mcp_registry_client::error_chain(e);
        let mut resp = self
            .client
            .get(&url)
            .header("accept", "text/plain")
            .send()
            .await
            .map_err(|e| {
                format!(
                    "failed to fetch public key: failed to fetch key: {}",
                    chain(&e)
                )
            })?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(format!(
                "failed to fetch public key: HTTP {}: failed to fetch key from {url}",
                resp.status().as_u16()
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| format!("failed to fetch public key: {}", chain(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err("failed to fetch public key: HTTP auth key response too large".into());
            }
        }
        Ok(String::from_utf8_lossy(&body).trim().to_owned())
    }
}
