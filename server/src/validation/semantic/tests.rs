//! Tests for the semantic layer (`check_semantic`): every rule passes once and fails once,
//! with exact locations and official messages.

use super::super::{FieldError, check_semantic};
use serde_json::json;

use super::super::fixtures::*;

#[test]
fn valid_examples_have_no_findings() {
    let f = check_semantic(&base());
    assert!(f.errors.is_empty() && f.warnings.is_empty(), "{f:?}");
    let remote = json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "name": "io.github.user/remote-weather",
        "description": "Remote MCP server reachable over streamable HTTP.",
        "version": "2.1.0",
        "title": "Remote Weather",
        "websiteUrl": "https://modelcontextprotocol.io/examples",
        "repository": {"url": "https://github.com/modelcontextprotocol/servers", "source": "github", "subfolder": "src/weather"},
        "icons": [{"src": "https://example.com/icon.png", "mimeType": "image/png", "sizes": ["48x48", "96x96"]}],
        "remotes": [{
            "type": "streamable-http", "url": "https://{host}/mcp",
            "headers": [{"name": "Authorization", "isSecret": true, "isRequired": true}],
            "variables": {"host": {"description": "API host", "default": "api.example.com"}}
        }]
    });
    assert_eq!(errors(&remote), vec![]);
    let package = with(
        "packages",
        json!([{
            "registryType": "npm", "identifier": "@modelcontextprotocol/server-weather", "version": "1.0.0",
            "transport": {"type": "stdio"}, "runtimeHint": "npx",
            "packageArguments": [{"type": "positional", "valueHint": "config_path"}, {"type": "named", "name": "--port", "value": "8080"}],
            "environmentVariables": [{"name": "API_KEY", "isSecret": true, "isRequired": true}]
        }]),
    );
    assert_eq!(errors(&package), vec![]);
}

#[test]
fn schema_version_gate() {
    let url = |v: &str| {
        json!(format!(
            "https://static.modelcontextprotocol.io/schemas/{v}/server.schema.json"
        ))
    };
    // Current: nothing. Older known: a warning only.
    let f = check_semantic(&with("$schema", url("2025-10-17")));
    assert!(f.errors.is_empty());
    assert_eq!(f.warnings.len(), 1);
    assert_eq!(f.warnings[0].location, "body.$schema");
    assert!(
        f.warnings[0]
            .message
            .starts_with("schema version 2025-10-17 is not the current version (2025-12-11)")
    );
    for v in ["2025-07-09", "2025-09-16", "2025-09-29", "2025-10-11"] {
        let f = check_semantic(&with("$schema", url(v)));
        assert!(f.errors.is_empty() && f.warnings.len() == 1, "{v}");
    }
    // Unknown ids, including `draft`, are errors.
    for v in ["draft", "2025-01-27"] {
        let (l, m) = only(&with("$schema", url(v)));
        assert_eq!(l, "body.$schema");
        assert!(
            m.starts_with(&format!("schema version {v} not found in embedded schemas")),
            "{m}"
        );
    }
    let (l, m) = only(&with(
        "$schema",
        json!("https://example.com/my-schema.json"),
    ));
    assert_eq!(l, "body.$schema");
    assert!(
        m.starts_with("invalid $schema URL: https://example.com/my-schema.json"),
        "{m}"
    );
    assert_eq!(
        only(&with("$schema", json!(""))),
        pair("body.$schema", "$schema field is required")
    );
    // Any host works as long as the path names a known version.
    assert!(
        check_semantic(&with(
            "$schema",
            json!("https://mirror.example/schemas/2025-12-11/server.schema.json")
        ))
        .is_ok()
    );
}

#[test]
fn server_name_parts() {
    assert!(errors(&with("name", json!("com.example.api/server"))).is_empty());
    assert!(errors(&with("name", json!("ab/cd"))).is_empty());
    assert!(errors(&with("name", json!("a.b-c/d_e.f-g"))).is_empty());
    let cases = [
        ("", "server name is required and must be a string"),
        (
            "no-namespace-separator",
            "server name must be in format 'dns-namespace/name' (e.g., 'com.example.api/server')",
        ),
        (
            "com.example/server/path",
            "server name cannot contain multiple slashes",
        ),
        (
            "com.example//server",
            "server name cannot contain multiple slashes",
        ),
        (
            "/server-name",
            "server name must be in format 'dns-namespace/name' with non-empty namespace and name parts",
        ),
        (
            "com.example/",
            "server name must be in format 'dns-namespace/name' with non-empty namespace and name parts",
        ),
        (
            "a/b",
            "server name format is invalid: namespace 'a' is invalid. Namespace must start and end with alphanumeric characters, and may contain dots and hyphens in the middle",
        ),
        (
            "-com.example/x1",
            "server name format is invalid: namespace '-com.example' is invalid. Namespace must start and end with alphanumeric characters, and may contain dots and hyphens in the middle",
        ),
        (
            "com.example/_server",
            "server name format is invalid: name '_server' is invalid. Name must start and end with alphanumeric characters, and may contain dots, underscores, and hyphens in the middle",
        ),
        (
            "com.example/s",
            "server name format is invalid: name 's' is invalid. Name must start and end with alphanumeric characters, and may contain dots, underscores, and hyphens in the middle",
        ),
        (
            "com_example/server",
            "server name format is invalid: namespace 'com_example' is invalid. Namespace must start and end with alphanumeric characters, and may contain dots and hyphens in the middle",
        ),
    ];
    for (name, msg) in cases {
        assert_eq!(
            only(&with("name", json!(name))),
            pair("body.name", msg),
            "{name}"
        );
    }
}

#[test]
fn server_version_ban() {
    assert!(errors(&with("version", json!("2021.03.15"))).is_empty());
    assert!(errors(&with("version", json!("1.2.3-alpha.1"))).is_empty());
    assert_eq!(
        only(&with("version", json!("latest"))),
        pair(
            "body.version",
            "version string 'latest' is reserved and cannot be used"
        )
    );
    assert_eq!(
        only(&with("version", json!("^1.2.3"))),
        pair(
            "body.version",
            r#"version must be a specific version, not a range: "^1.2.3""#
        )
    );
    for v in [
        "~1.2.3",
        ">=1.2.3",
        "1.x",
        "1.*",
        "1.2.3 - 2.0.0",
        "1.2 || 1.3",
    ] {
        assert_eq!(only(&with("version", json!(v))).0, "body.version", "{v}");
    }
}

#[test]
fn title_whitespace() {
    assert!(errors(&with("title", json!(" Weather "))).is_empty());
    assert_eq!(
        only(&with("title", json!("   \t"))),
        pair("body.title", "title cannot be only whitespace")
    );
}

#[test]
fn website_url() {
    assert!(errors(&with("websiteUrl", json!("https://example.com/docs"))).is_empty());
    assert!(
        errors(&with(
            "websiteUrl",
            json!("https://example.com/path/?q=hello%20world&r=a%22b")
        ))
        .is_empty()
    );
    assert_eq!(
        errors(&with("websiteUrl", json!("http://example.com/docs"))),
        vec![pair(
            "body.websiteUrl",
            "websiteUrl must use https scheme: http://example.com/docs"
        )]
    );
    assert_eq!(
        errors(&with("websiteUrl", json!("example.com/docs"))),
        vec![
            pair(
                "body.websiteUrl",
                "websiteUrl must be absolute (include scheme): example.com/docs"
            ),
            pair(
                "body.websiteUrl",
                "websiteUrl must use https scheme: example.com/docs"
            ),
        ]
    );
    assert_eq!(
        only(&with("websiteUrl", json!("ht tp://example.com/docs"))),
        pair(
            "body.websiteUrl",
            r#"invalid websiteUrl: parse "ht tp://example.com/docs": first path segment in URL cannot contain colon"#
        )
    );
    for bad in [
        "https://example.com/\"oops",
        "https://example.com/it's",
        "https://example.com/<x>",
        "https://example.com/has space",
    ] {
        let (l, m) = only(&with("websiteUrl", json!(bad)));
        assert_eq!(l, "body.websiteUrl");
        assert!(
            m.starts_with("websiteUrl contains an invalid character"),
            "{m}"
        );
        assert!(m.ends_with(bad), "{m}");
    }
    let (_, m) = only(&with(
        "websiteUrl",
        json!("https://example.com/has\nnewline"),
    ));
    assert!(m.starts_with("invalid websiteUrl: "), "{m}");
}

#[test]
fn icons() {
    let icon = |src: &str| json!([{"src": src}]);
    assert!(errors(&with("icons", icon("https://example.com/icon.png"))).is_empty());
    assert_eq!(
        errors(&with("icons", icon("http://example.com/icon.png"))),
        vec![pair(
            "body.icons[0].src",
            "icon src must use https scheme (got http): http://example.com/icon.png"
        )]
    );
    assert_eq!(
        errors(&with(
            "icons",
            json!([{"src": "https://ok.example/i.png"}, {"src": "data:image/png;base64,AAAA"}])
        )),
        vec![pair(
            "body.icons[1].src",
            "icon src must use https scheme (got data): data:image/png;base64,AAAA"
        )]
    );
    assert_eq!(
        errors(&with("icons", icon("/icon.png"))),
        vec![
            pair(
                "body.icons[0].src",
                "icon src must be an absolute URL (include scheme): /icon.png"
            ),
            pair(
                "body.icons[0].src",
                "icon src must use https scheme (got ): /icon.png"
            ),
        ]
    );
    let (l, m) = only(&with("icons", icon("https://exa mple.com/i.png")));
    assert_eq!(l, "body.icons[0].src");
    assert!(m.starts_with(r#"invalid icon src URL: parse "https://exa mple.com/i.png": invalid character " " in host name"#), "{m}");
}

#[test]
fn repository() {
    let repo = |url: &str, source: &str| with("repository", json!({"url": url, "source": source}));
    assert!(errors(&repo("https://github.com/owner/repo", "github")).is_empty());
    assert!(errors(&repo("https://github.com/owner/repo.git", "github")).is_empty());
    assert!(errors(&repo("https://gitlab.com/group/subgroup/repo", "gitlab")).is_empty());
    assert!(errors(&with("repository", json!({}))).is_empty());
    assert_eq!(
        only(&repo("https://bitbucket.org/owner/repo", "bitbucket")),
        pair(
            "body.repository.url",
            "invalid repository URL: https://bitbucket.org/owner/repo"
        )
    );
    assert_eq!(
        only(&repo("https://github.com/owner", "github")),
        pair(
            "body.repository.url",
            "invalid repository URL: https://github.com/owner"
        )
    );
    assert_eq!(
        only(&repo("https://gitlab.com/group", "gitlab")).0,
        "body.repository.url"
    );
    let sub = |s: &str| {
        with(
            "repository",
            json!({"url": "https://github.com/o/r", "source": "github", "subfolder": s}),
        )
    };
    assert!(errors(&sub("servers/my-server")).is_empty());
    for bad in [
        "../parent/folder",
        "/absolute/path",
        "servers/my-server/",
        "servers/my server",
        "servers//my-server",
        "a/./b",
    ] {
        assert_eq!(
            only(&sub(bad)),
            pair(
                "body.repository.subfolder",
                &format!("invalid subfolder path: {bad}")
            ),
            "{bad}"
        );
    }
}

#[test]
fn findings_use_canonical_locations_after_case_folding() {
    let b = json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json",
        "Name": "a/b", "description": "d", "VERSION": "latest"
    });
    let e = errors(&b);
    assert_eq!(e[0].0, "body.name");
    assert_eq!(
        e[1],
        pair(
            "body.version",
            "version string 'latest' is reserved and cannot be used"
        )
    );
    let FieldError { value, .. } = check_semantic(&b).errors.remove(0);
    assert_eq!(value, None);
}

#[test]
fn issue_order_follows_the_official_validator() {
    let b = json!({
        "$schema": "https://static.modelcontextprotocol.io/schemas/draft/server.schema.json",
        "name": "a/b", "description": "d", "version": "latest", "title": " ",
        "websiteUrl": "http://x.example", "icons": [{"src": "http://x.example/i.png"}],
        "repository": {"url": "https://example.com", "source": "svn"},
        "packages": [{"registryType": "npm", "identifier": "a b", "transport": {"type": "stdio"}}],
        "remotes": [{"type": "stdio"}]
    });
    let locs: Vec<String> = errors(&b).into_iter().map(|e| e.0).collect();
    assert_eq!(
        locs,
        [
            "body.$schema",
            "body.name",
            "body.version",
            "body.repository.url",
            "body.websiteUrl",
            "body.title",
            "body.icons[0].src",
            "body.packages[0].identifier",
            "body.remotes[0].type"
        ]
    );
}
