//! Layer 2 for `packages[]` and `remotes[]`: identifiers, versions, arguments, transports and
//! `{template}` variables (`validatePackageField`, `validatePackageTransport`,
//! `validateRemoteTransport` and the URL helpers of `internal/validators/utils.go`).

use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

use super::gourl::{self, go_string_slice};
use super::semantic::{Out, items, s};
use super::version_string;

/// `validatePackageField`.
pub(crate) fn check_package(path: &str, pkg: &Value, out: &mut Out<'_>) {
    if s(pkg, "identifier").contains(' ') {
        out.error(
            &format!("{path}.identifier"),
            "package-name-has-spaces",
            "package name cannot contain spaces",
        );
    }
    if let Err(msg) = version_string::check_version_string(s(pkg, "version")) {
        out.error(
            &format!("{path}.version"),
            version_string::reference(&msg),
            msg,
        );
    }
    for list in ["runtimeArguments", "packageArguments"] {
        for (i, arg) in items(pkg, list).iter().enumerate() {
            check_argument(&format!("{path}.{list}[{i}]"), arg, out);
        }
    }
    let available = package_variables(pkg);
    let empty = Value::Null;
    let transport = pkg.get("transport").unwrap_or(&empty);
    check_package_transport(&format!("{path}.transport"), transport, &available, out);
}

/// `validateArgument`: a positional argument needs `value` or `valueHint` (present, even as ""); a named
/// one a well-formed name; any other type is refused.
fn check_argument(path: &str, arg: &Value, out: &mut Out<'_>) {
    let present = |key| arg.get(key).is_some_and(|v| !v.is_null());
    match s(arg, "type") {
        "named" => {}
        "positional" => {
            if !present("value") && !present("valueHint") {
                out.error(
                    path,
                    "positional-argument-value-or-hint-required",
                    "positional argument must provide a value or a valueHint",
                );
            }
            return;
        }
        other => {
            out.error(
                &format!("{path}.type"),
                "invalid-argument-type",
                format!("argument type must be 'positional' or 'named': {other:?}"),
            );
            return;
        }
    }
    let name = s(arg, "name");
    if name.is_empty() {
        out.error(
            &format!("{path}.name"),
            "named-argument-name-required",
            "named argument name is required",
        );
    } else if name.contains(['<', '>', ' ', '$']) {
        out.error(
            &format!("{path}.name"),
            "invalid-named-argument-name",
            format!("invalid named argument name format: {name}"),
        );
    }
    // Runs even for an empty name (every value then "starts with" it), as in the Go code.
    let value = s(arg, "value");
    if !value.is_empty() && value.starts_with(name) {
        out.error(
            &format!("{path}.value"), "argument-value-starts-with-name",
            format!(
                "argument value cannot start with the argument name: value starts with argument name '{name}': {value}"
            ),
        );
    }
    let default = s(arg, "default");
    if !default.is_empty() && default.starts_with(name) {
        out.error(
            &format!("{path}.default"), "argument-default-starts-with-name",
            format!(
                "argument default cannot start with the argument name: default starts with argument name '{name}': {default}"
            ),
        );
    }
}

/// `collectAvailableVariables`: env var names, then runtime and package argument names / valueHints.
fn package_variables(pkg: &Value) -> Vec<String> {
    let mut vars: Vec<String> = items(pkg, "environmentVariables")
        .iter()
        .map(|env| s(env, "name").to_string())
        .collect();
    for list in ["runtimeArguments", "packageArguments"] {
        for arg in items(pkg, list) {
            for key in ["name", "valueHint"] {
                let v = s(arg, key);
                if !v.is_empty() {
                    vars.push(v.to_string());
                }
            }
        }
    }
    vars
}

/// `validatePackageTransport`.
fn check_package_transport(path: &str, transport: &Value, available: &[String], out: &mut Out<'_>) {
    let (kind, url) = (s(transport, "type"), s(transport, "url"));
    match kind {
        "stdio" => {
            if !url.is_empty() {
                out.error(
                    &format!("{path}.url"),
                    "stdio-transport-url-not-empty",
                    format!("url must be empty for {kind} transport type, got: {url}"),
                );
            }
        }
        "streamable-http" | "sse" => {
            if url.is_empty() {
                out.error(
                    &format!("{path}.url"),
                    "streamable-transport-url-required",
                    format!("url is required for {kind} transport type"),
                );
            } else if !is_valid_templated_url(url, available) {
                out.error(
                    &format!("{path}.url"),
                    "invalid-templated-url",
                    templated_url_message("invalid package transport URL", url, available),
                );
            }
        }
        _ => out.error(
            &format!("{path}.type"),
            "unsupported-transport-type",
            format!("unsupported transport type: {kind}"),
        ),
    }
}

/// `validateRemoteTransport`.
pub(crate) fn check_remote(path: &str, remote: &Value, out: &mut Out<'_>) {
    let (kind, url) = (s(remote, "type"), s(remote, "url"));
    match kind {
        "streamable-http" | "sse" => {
            if url.is_empty() {
                out.error(
                    &format!("{path}.url"), "remote-transport-url-required",
                    format!("url is required for {kind} transport type"),
                );
            } else if !is_valid_remote_url(url) {
                out.error(&format!("{path}.url"), "invalid-remote-url", format!("invalid remote URL: {url}"));
            }
            // The template check runs in every case, so a bad URL can be reported twice (the
            // official /validate output lists both issues too).
            let available: Vec<String> = remote
                .get("variables")
                .and_then(Value::as_object)
                .map(|vars| vars.keys().filter(|k| !k.is_empty()).cloned().collect())
                .unwrap_or_default();
            if !is_valid_templated_url(url, &available) {
                out.error(
                    &format!("{path}.url"), "invalid-templated-url",
                    templated_url_message("invalid remote URL", url, &available),
                );
            }
        }
        _ => out.error(
            &format!("{path}.type"), "unsupported-remote-transport-type",
            format!(
                "unsupported transport type for remotes: {kind} (only streamable-http and sse are supported)"
            ),
        ),
    }
}

fn templated_url_message(prefix: &str, url: &str, available: &[String]) -> String {
    if template_variables(url).is_empty() {
        format!("{prefix}: {url}")
    } else {
        format!(
            "{prefix}: template variables in URL {url} reference undefined variables. Available variables: {}",
            go_string_slice(available)
        )
    }
}

fn template_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\{([^}]+)\}").expect("static regex compiles"))
}

/// `extractTemplateVariables`: the names inside `{...}`.
pub(crate) fn template_variables(url: &str) -> Vec<&str> {
    template_re()
        .captures_iter(url)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect()
}

/// `replaceTemplateVariables`: substitute placeholders so the URL can be parsed.
fn replace_template_variables(raw: &str) -> String {
    static PORT: OnceLock<Regex> = OnceLock::new();
    let mut result = raw.to_string();
    for (placeholder, value) in [
        ("{host}", "example.com"),
        ("{port}", "8080"),
        ("{path}", "api"),
        ("{protocol}", "http"),
        ("{scheme}", "http"),
    ] {
        result = result.replace(placeholder, value);
    }
    let port =
        PORT.get_or_init(|| Regex::new(r":(\{[^}]+\})(/|$)").expect("static regex compiles"));
    let result = port.replace_all(&result, ":8080${2}");
    template_re()
        .replace_all(&result, "placeholder")
        .into_owned()
}

/// `IsValidURL`: after placeholder substitution, an http(s) URL with a host.
fn is_valid_url(raw: &str) -> bool {
    match gourl::parse(&replace_template_variables(raw)) {
        Ok(u) => (u.scheme == "http" || u.scheme == "https") && !u.host.is_empty(),
        Err(_) => false,
    }
}

/// `IsValidRemoteURL`: a valid URL, not localhost, https only.
fn is_valid_remote_url(raw: &str) -> bool {
    if !is_valid_url(raw) {
        return false;
    }
    let Ok(u) = gourl::parse(&replace_template_variables(raw)) else {
        return false;
    };
    let host = u.hostname();
    if host == "localhost" || host == "127.0.0.1" || host.ends_with(".localhost") {
        return false;
    }
    u.scheme == "https"
}

/// `IsValidTemplatedURL`: a valid URL whose every `{var}` is available.
fn is_valid_templated_url(raw: &str, available: &[String]) -> bool {
    is_valid_url(raw)
        && template_variables(raw)
            .iter()
            .all(|v| available.iter().any(|a| a == v))
}

#[cfg(test)]
mod tests;
