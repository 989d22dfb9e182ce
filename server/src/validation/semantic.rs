//! Layer 2: the official semantic validators (`internal/validators/validators.go`, `schema.go`),
//! run on publish and admin edit after the struct-tag checks pass.
//!
//! They run on the body as Go sees it after `json.Unmarshal` (see [`super::normalize_for_storage`]),
//! so absent, `null` and `""` are the same thing here, just as in the Go structs. Issue order follows
//! `ValidateServerJSON`: `$schema`, name, version, repository, websiteUrl, title, icons, packages,
//! remotes.

use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

use super::gourl::{self, go_quote};
use super::{FieldError, Findings, packages, version_string};

/// Schema versions the official registry embeds, oldest first.
pub const SCHEMA_VERSIONS: &[&str] = &[
    "2025-07-09",
    "2025-09-16",
    "2025-09-29",
    "2025-10-11",
    "2025-10-17",
    "2025-12-11",
];
/// The current schema version.
pub const CURRENT_SCHEMA_VERSION: &str = "2025-12-11";
/// The current schema URL.
pub const CURRENT_SCHEMA_URL: &str =
    "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json";

/// A collector that prefixes every location (`body.` + the Go validator path).
pub(crate) struct Out<'a> {
    pub findings: &'a mut Findings,
}

impl Out<'_> {
    /// A finding of the rule named `reference` (the official validators' rule names).
    pub fn error(&mut self, path: &str, reference: &'static str, message: impl Into<String>) {
        self.findings
            .errors
            .push(issue(path, reference, message.into()));
    }
    pub fn warning(&mut self, path: &str, reference: &'static str, message: impl Into<String>) {
        self.findings
            .warnings
            .push(issue(path, reference, message.into()));
    }
}

fn issue(path: &str, reference: &'static str, message: String) -> FieldError {
    FieldError {
        location: format!("body.{path}"),
        message,
        value: None,
        kind: "semantic",
        reference: reference.into(),
    }
}

/// The string a Go `string` field would hold: `""` when absent, null or not a string.
pub(crate) fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// The items a Go slice field would hold.
pub(crate) fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Run every semantic check on an already-normalized body.
pub(crate) fn check(server: &Value, out: &mut Out<'_>) {
    check_schema_version(s(server, "$schema"), out);
    if let Err(msg) = parse_server_name(s(server, "name")) {
        out.error("name", "invalid-server-name", msg);
    }
    if let Err(msg) = version_string::check_version_string(s(server, "version")) {
        out.error("version", version_string::reference(&msg), msg);
    }
    if let Some(repo) = server.get("repository") {
        check_repository(repo, out);
    }
    check_website_url(s(server, "websiteUrl"), out);
    let title = s(server, "title");
    if !title.is_empty() && title.trim().is_empty() {
        out.error(
            "title",
            "title-whitespace-only",
            "title cannot be only whitespace",
        );
    }
    for (i, icon) in items(server, "icons").iter().enumerate() {
        check_icon(&format!("icons[{i}].src"), s(icon, "src"), out);
    }
    for (i, pkg) in items(server, "packages").iter().enumerate() {
        packages::check_package(&format!("packages[{i}]"), pkg, out);
    }
    for (i, remote) in items(server, "remotes").iter().enumerate() {
        packages::check_remote(&format!("remotes[{i}]"), remote, out);
    }
}

/// `$schema` must name an embedded schema version; an older one only warns.
fn check_schema_version(schema: &str, out: &mut Out<'_>) {
    static RE: OnceLock<Regex> = OnceLock::new();
    if schema.is_empty() {
        out.error(
            "$schema",
            "schema-field-required",
            "$schema field is required",
        );
        return;
    }
    let re = RE.get_or_init(|| {
        Regex::new(r"/schemas/([^/]+)/server\.schema\.json").expect("static regex compiles")
    });
    let Some(version) = re
        .captures(schema)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str())
    else {
        out.error(
            "$schema", "schema-version-extraction-error",
            format!(
                "invalid $schema URL: {schema} (expected a URL ending in /schemas/<version>/server.schema.json, e.g. {CURRENT_SCHEMA_URL})"
            ),
        );
        return;
    };
    if !SCHEMA_VERSIONS.contains(&version) {
        out.error(
            "$schema", "schema-version-not-available",
            format!(
                "schema version {version} not found in embedded schemas (supported: {}); use {CURRENT_SCHEMA_URL}",
                SCHEMA_VERSIONS.join(", ")
            ),
        );
    } else if version != CURRENT_SCHEMA_VERSION {
        out.warning(
            "$schema", "schema-version-deprecated",
            format!(
                "schema version {version} is not the current version ({CURRENT_SCHEMA_VERSION}); consider updating $schema to {CURRENT_SCHEMA_URL}"
            ),
        );
    }
}

/// `parseServerName`: exactly one slash; each side starts and ends with a letter or digit.
pub(crate) fn parse_server_name(name: &str) -> Result<(), String> {
    static NAMESPACE: OnceLock<Regex> = OnceLock::new();
    static NAME_PART: OnceLock<Regex> = OnceLock::new();
    if name.is_empty() {
        return Err("server name is required and must be a string".to_string());
    }
    if !name.contains('/') {
        return Err(
            "server name must be in format 'dns-namespace/name' (e.g., 'com.example.api/server')"
                .to_string(),
        );
    }
    if name.matches('/').count() > 1 {
        return Err("server name cannot contain multiple slashes".to_string());
    }
    let (namespace, part) = name.split_once('/').unwrap_or((name, ""));
    if namespace.is_empty() || part.is_empty() {
        return Err(
            "server name must be in format 'dns-namespace/name' with non-empty namespace and name parts"
                .to_string(),
        );
    }
    let ns_re = NAMESPACE.get_or_init(|| {
        Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9.-]*[a-zA-Z0-9]$").expect("static regex compiles")
    });
    let part_re = NAME_PART.get_or_init(|| {
        Regex::new(r"^[a-zA-Z0-9][a-zA-Z0-9._-]*[a-zA-Z0-9]$").expect("static regex compiles")
    });
    if !ns_re.is_match(namespace) {
        return Err(format!(
            "server name format is invalid: namespace '{namespace}' is invalid. Namespace must start and end with alphanumeric characters, and may contain dots and hyphens in the middle"
        ));
    }
    if !part_re.is_match(part) {
        return Err(format!(
            "server name format is invalid: name '{part}' is invalid. Name must start and end with alphanumeric characters, and may contain dots, underscores, and hyphens in the middle"
        ));
    }
    Ok(())
}

/// `validateRepository`: only GitHub and GitLab URLs are accepted; the subfolder must be clean.
fn check_repository(repo: &Value, out: &mut Out<'_>) {
    static GITHUB: OnceLock<Regex> = OnceLock::new();
    static GITLAB: OnceLock<Regex> = OnceLock::new();
    static SUBFOLDER: OnceLock<Regex> = OnceLock::new();
    let (url, source, subfolder) = (s(repo, "url"), s(repo, "source"), s(repo, "subfolder"));
    if url.is_empty() && source.is_empty() {
        return;
    }
    // Go `\w` is ASCII [0-9A-Za-z_].
    let valid = match source {
        "github" => GITHUB
            .get_or_init(|| {
                Regex::new(r"^https?://(www\.)?github\.com/[0-9A-Za-z_.-]+/[0-9A-Za-z_.-]+/?$")
                    .expect("static regex compiles")
            })
            .is_match(url),
        "gitlab" => GITLAB
            .get_or_init(|| {
                Regex::new(r"^https?://(www\.)?gitlab\.com/[0-9A-Za-z_.-]+(/[0-9A-Za-z_.-]+)+/?$")
                    .expect("static regex compiles")
            })
            .is_match(url),
        _ => false,
    };
    if !valid {
        out.error(
            "repository.url",
            "invalid-repository-url",
            format!("invalid repository URL: {url}"),
        );
    }
    if !subfolder.is_empty() {
        let chars_ok = SUBFOLDER
            .get_or_init(|| Regex::new(r"^[a-zA-Z0-9\-_./]+$").expect("static regex compiles"))
            .is_match(subfolder);
        let clean = !subfolder.starts_with('/')
            && !subfolder.ends_with('/')
            && chars_ok
            && subfolder
                .split('/')
                .all(|seg| !matches!(seg, "" | "." | ".."));
        if !clean {
            out.error(
                "repository.subfolder",
                "invalid-subfolder-path",
                format!("invalid subfolder path: {subfolder}"),
            );
        }
    }
}

/// Characters the official validator refuses in `websiteUrl` (even where Go's parser accepts them).
const WEBSITE_FORBIDDEN: &[char] = &['"', '\'', '<', '>', ' ', '\t', '\n', '\r'];

/// `validateWebsiteURL`: parseable, no quote/bracket/whitespace characters, absolute, https.
fn check_website_url(url: &str, out: &mut Out<'_>) {
    if url.is_empty() {
        return;
    }
    let parsed = match gourl::parse(url) {
        Ok(p) => p,
        Err(e) => {
            out.error(
                "websiteUrl",
                "invalid-website-url",
                format!("invalid websiteUrl: {e}"),
            );
            return;
        }
    };
    if let Some(c) = url.chars().find(|c| WEBSITE_FORBIDDEN.contains(c)) {
        out.error(
            "websiteUrl", "website-url-invalid-characters",
            format!(
                "websiteUrl contains an invalid character ({}); quotes, angle brackets and whitespace must be percent-encoded: {url}",
                go_quote(&c.to_string())
            ),
        );
    }
    if !parsed.is_abs() {
        out.error(
            "websiteUrl",
            "website-url-must-be-absolute",
            format!("websiteUrl must be absolute (include scheme): {url}"),
        );
    }
    if parsed.scheme != "https" {
        out.error(
            "websiteUrl",
            "website-url-invalid-scheme",
            format!("websiteUrl must use https scheme: {url}"),
        );
    }
}

/// `validateIcon`: an absolute https URL.
fn check_icon(path: &str, src: &str, out: &mut Out<'_>) {
    let parsed = match gourl::parse(src) {
        Ok(p) => p,
        Err(e) => {
            out.error(
                path,
                "icon-src-invalid-url",
                format!("invalid icon src URL: {e}"),
            );
            return;
        }
    };
    if !parsed.is_abs() {
        out.error(
            path,
            "icon-src-not-absolute",
            format!("icon src must be an absolute URL (include scheme): {src}"),
        );
    }
    if parsed.scheme != "https" {
        out.error(
            path,
            "icon-src-invalid-scheme",
            format!(
                "icon src must use https scheme (got {}): {src}",
                parsed.scheme
            ),
        );
    }
}

#[cfg(test)]
mod tests;
