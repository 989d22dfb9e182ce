//! Semantic-layer tests for `packages[]` and `remotes[]` (`check_semantic`), with exact
//! locations and official messages.

use serde_json::{Value, json};

use super::super::fixtures::*;

fn pkg(extra: Value) -> Value {
    let mut p = json!({"registryType": "npm", "identifier": "test-package", "version": "1.0.0", "transport": {"type": "stdio"}});
    for (k, v) in extra.as_object().unwrap() {
        p[k] = v.clone();
    }
    with("packages", json!([p]))
}

#[test]
fn package_identifier_and_version() {
    assert_eq!(
        only(&pkg(json!({"identifier": "test package"}))),
        pair(
            "body.packages[0].identifier",
            "package name cannot contain spaces"
        )
    );
    assert_eq!(
        only(&pkg(json!({"version": "latest"}))),
        pair(
            "body.packages[0].version",
            "version string 'latest' is reserved and cannot be used"
        )
    );
    assert_eq!(
        only(&pkg(json!({"version": ">=1.2.3"}))),
        pair(
            "body.packages[0].version",
            r#"version must be a specific version, not a range: ">=1.2.3""#
        )
    );
    assert!(errors(&pkg(json!({"version": "snapshot"}))).is_empty());
    assert!(errors(&pkg(json!({"version": null}))).is_empty());
}

#[test]
fn package_transports() {
    assert_eq!(
        only(&pkg(
            json!({"transport": {"type": "stdio", "url": "ignored-for-stdio"}})
        )),
        pair(
            "body.packages[0].transport.url",
            "url must be empty for stdio transport type, got: ignored-for-stdio"
        )
    );
    assert_eq!(
        only(&pkg(json!({"transport": {"type": "sse"}}))),
        pair(
            "body.packages[0].transport.url",
            "url is required for sse transport type"
        )
    );
    assert_eq!(
        only(&pkg(json!({"transport": {"type": "websocket"}}))),
        pair(
            "body.packages[0].transport.type",
            "unsupported transport type: websocket"
        )
    );
    // Packages may point at localhost and use http.
    assert!(
        errors(&pkg(
            json!({"transport": {"type": "streamable-http", "url": "http://localhost:3000/mcp"}})
        ))
        .is_empty()
    );
    assert_eq!(
        only(&pkg(
            json!({"transport": {"type": "streamable-http", "url": "localhost:3000/mcp"}})
        )),
        pair(
            "body.packages[0].transport.url",
            "invalid package transport URL: localhost:3000/mcp"
        )
    );
}

#[test]
fn package_transport_variables() {
    let templated = json!({"type": "streamable-http", "url": "http://{host}:{port}/mcp"});
    let ok = pkg(
        json!({"transport": templated, "environmentVariables": [{"name": "host"}, {"name": "port"}]}),
    );
    assert!(errors(&ok).is_empty());
    // Argument valueHints and names count too.
    let ok = pkg(json!({
        "transport": {"type": "sse", "url": "https://example.com/{region}/{--port}"},
        "runtimeArguments": [{"type": "positional", "valueHint": "region"}],
        "packageArguments": [{"type": "named", "name": "--port"}]
    }));
    assert!(errors(&ok).is_empty());
    assert_eq!(
        only(&pkg(
            json!({"transport": templated, "environmentVariables": [{"name": "host"}]})
        )),
        pair(
            "body.packages[0].transport.url",
            "invalid package transport URL: template variables in URL http://{host}:{port}/mcp reference undefined variables. Available variables: [host]"
        )
    );
    assert_eq!(
        only(&pkg(json!({"transport": templated}))).1,
        "invalid package transport URL: template variables in URL http://{host}:{port}/mcp reference undefined variables. Available variables: []"
    );
}

#[test]
fn named_arguments() {
    let arg = |a: Value| pkg(json!({"runtimeArguments": [a]}));
    for ok in [
        json!({"type": "named", "name": "--directory", "value": "/path/to/dir"}),
        json!({"type": "named", "name": "-p"}),
        json!({"type": "named", "name": "--port", "value": "use --port for configuration"}),
        json!({"type": "positional", "name": "anything with spaces", "value": "--port 8080"}),
    ] {
        assert!(errors(&arg(ok.clone())).is_empty(), "{ok}");
    }
    let loc = "body.packages[0].runtimeArguments[0]";
    assert_eq!(
        only(&arg(json!({"type": "named", "name": "--port 8080"}))),
        pair(
            &format!("{loc}.name"),
            "invalid named argument name format: --port 8080"
        )
    );
    for bad in ["--file <path>", "--config $CONFIG_FILE", "a>b"] {
        assert_eq!(
            only(&arg(json!({"type": "named", "name": bad}))).0,
            format!("{loc}.name"),
            "{bad}"
        );
    }
    assert_eq!(
        only(&arg(json!({"type": "named", "name": ""}))),
        pair(&format!("{loc}.name"), "named argument name is required")
    );
    assert_eq!(
        only(&arg(
            json!({"type": "named", "name": "--port", "value": "--port 8080"})
        )),
        pair(
            &format!("{loc}.value"),
            "argument value cannot start with the argument name: value starts with argument name '--port': --port 8080"
        )
    );
    assert_eq!(
        only(&arg(
            json!({"type": "named", "name": "--config", "default": "--config /etc/app.conf"})
        )),
        pair(
            &format!("{loc}.default"),
            "argument default cannot start with the argument name: default starts with argument name '--config': --config /etc/app.conf"
        )
    );
    // Go quirk: with an empty name, any value "starts with" it.
    assert_eq!(
        errors(&arg(json!({"type": "named", "value": "x"}))).len(),
        2
    );
}

fn remote(r: Value) -> Value {
    with("remotes", json!([r]))
}

#[test]
fn remotes() {
    assert!(
        errors(&remote(
            json!({"type": "sse", "url": "https://events.example.com/mcp"})
        ))
        .is_empty()
    );
    assert_eq!(
        only(&remote(json!({"type": "stdio"}))),
        pair(
            "body.remotes[0].type",
            "unsupported transport type for remotes: stdio (only streamable-http and sse are supported)"
        )
    );
    assert_eq!(
        only(&remote(
            json!({"type": "streamable-http", "url": "http://api.github.com/endpoint"})
        )),
        pair(
            "body.remotes[0].url",
            "invalid remote URL: http://api.github.com/endpoint"
        )
    );
    for local in [
        "https://localhost/mcp",
        "https://127.0.0.1:8443/mcp",
        "https://dev.localhost/mcp",
    ] {
        assert_eq!(
            only(&remote(json!({"type": "sse", "url": local}))),
            pair(
                "body.remotes[0].url",
                &format!("invalid remote URL: {local}")
            )
        );
    }
    // A URL that is not even a URL fails both the remote and the template check.
    assert_eq!(
        errors(&remote(
            json!({"type": "streamable-http", "url": "not-a-valid-url"})
        )),
        vec![
            pair("body.remotes[0].url", "invalid remote URL: not-a-valid-url"),
            pair("body.remotes[0].url", "invalid remote URL: not-a-valid-url"),
        ]
    );
    let e = errors(&remote(json!({"type": "sse"})));
    assert_eq!(
        e[0],
        pair(
            "body.remotes[0].url",
            "url is required for sse transport type"
        )
    );
    // Second remote, exact index.
    let b = with(
        "remotes",
        json!([{"type": "sse", "url": "https://a.example/sse"}, {"type": "sse", "url": "http://b.example/sse"}]),
    );
    assert_eq!(
        only(&b),
        pair(
            "body.remotes[1].url",
            "invalid remote URL: http://b.example/sse"
        )
    );
}

#[test]
fn remote_variables() {
    let ok = remote(
        json!({"type": "streamable-http", "url": "https://{region}.example.com/mcp/{tenant_id}",
                           "variables": {"region": {"choices": ["us"]}, "tenant_id": {"isRequired": true}}}),
    );
    assert!(errors(&ok).is_empty());
    assert_eq!(
        only(&remote(
            json!({"type": "streamable-http", "url": "https://example.com/mcp/{tenant_id}/{region}",
                            "variables": {"tenant_id": {}}})
        )),
        pair(
            "body.remotes[0].url",
            "invalid remote URL: template variables in URL https://example.com/mcp/{tenant_id}/{region} reference undefined variables. Available variables: [tenant_id]"
        )
    );
    assert!(
        errors(&remote(
            json!({"type": "sse", "url": "https://x.example/mcp", "variables": {"unused": {}}})
        ))
        .is_empty()
    );
}

/// The URL helpers on their own.
mod helpers {
    use super::super::*;

    #[test]
    fn placeholder_substitution() {
        assert_eq!(
            replace_template_variables("http://{host}:{port}/{path}"),
            "http://example.com:8080/api"
        );
        assert_eq!(
            replace_template_variables("{scheme}://{region}.example.com:{p}/x/{id}"),
            "http://placeholder.example.com:8080/x/placeholder"
        );
        assert_eq!(
            replace_template_variables("https://h.example:{p}"),
            "https://h.example:8080"
        );
    }

    #[test]
    fn url_predicates() {
        assert!(is_valid_url("http://localhost:3000/mcp"));
        assert!(is_valid_url("https://{tenant}.example.com/mcp"));
        assert!(!is_valid_url("example.com/remote"));
        assert!(!is_valid_url("not-a-valid-url"));
        assert!(!is_valid_url("wss://example.com/ws"));
        assert!(!is_valid_url("https:///nohost"));
        assert!(is_valid_remote_url("https://example.com/mcp"));
        assert!(!is_valid_remote_url("http://example.com/mcp"));
        assert!(!is_valid_remote_url("https://localhost/mcp"));
        assert!(!is_valid_remote_url("https://127.0.0.1:8443/mcp"));
        assert!(!is_valid_remote_url("https://api.localhost/mcp"));
        assert!(is_valid_remote_url("https://localhost.example.com/mcp"));
        assert!(is_valid_templated_url(
            "http://{host}:{port}/mcp",
            &["host".into(), "port".into()]
        ));
        assert!(!is_valid_templated_url(
            "http://{host}:{port}/mcp",
            &["host".into()]
        ));
        assert_eq!(template_variables("https://{a}.x/{b}/{}"), vec!["a", "b"]);
    }
}
