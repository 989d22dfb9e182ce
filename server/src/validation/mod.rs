//! server.json validation, as the official MCP Registry (registry.modelcontextprotocol.io) does it.
//!
//! Pure functions over `serde_json::Value`; no I/O. The layers, in the order the official publish
//! flow applies them:
//!
//! 1. [`check_structure`]: huma's struct-tag checks on the request body → `422 validation failed`.
//! 2. [`check_semantic`]: the `$schema` version gate and the semantic validators → `422` with the
//!    fixed "see /validate" message. Warnings (an older known `$schema`) never fail.
//! 3. Service checks that are pure: [`Stored::check_publisher_meta_size`] → `400 Failed to publish server`.
//!
//! `POST /validate` additionally runs [`check_schema`] (full JSON Schema); [`validate_all`] returns
//! everything it reports. [`normalize_for_storage`] is what gets stored and served back.

mod gourl;
mod model;
mod normalize;
mod packages;
mod schema;
mod semantic;
mod structure;
mod version_string;

use serde::Serialize;
use serde_json::Value;

pub use model::{PUBLISHER_PROVIDED_KEY, STATUSES};
pub use schema::SERVER_SCHEMA_2025_12_11;
pub use semantic::{CURRENT_SCHEMA_URL, CURRENT_SCHEMA_VERSION, SCHEMA_VERSIONS};
pub use version_string::check_version_string;

/// One problem, shaped like huma's `ErrorDetail` (`{message, location?, value?}`). `kind` and `reference`
/// are what `/validate` reports besides (`type` and `reference` of its issues); an API error never shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// `body.name`, `body.packages[0].transport.url`, ...
    pub location: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// The layer that found it: `schema` (JSON Schema and the request constraints) or `semantic`.
    #[serde(skip)]
    pub kind: &'static str,
    /// The rule: the official rule name for semantic findings (`reserved-version-string`), the keyword
    /// location for JSON Schema findings (`#/properties/description/maxLength`).
    #[serde(skip)]
    pub reference: String,
}

impl FieldError {
    /// A request-constraint finding (huma's checks of the Go struct tags). The value is echoed as huma
    /// holds it, a decoded `any`: numbers are float64 (`1.0` comes back as `1`).
    pub(crate) fn constraint(location: String, message: String, value: Option<Value>) -> Self {
        FieldError {
            location,
            message,
            value: value.map(normalize::go_numbers),
            kind: "schema",
            reference: "request-constraints".into(),
        }
    }
}

/// Errors (reject) and warnings (report only).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Findings {
    pub errors: Vec<FieldError>,
    pub warnings: Vec<FieldError>,
}

impl Findings {
    /// True when there is no error (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Layer 1 — what huma's struct tags enforce on the publish / edit body (required fields,
/// lengths, patterns, enums, `format:"uri"`, JSON types). `prefix` is `"body"`.
/// A failure is answered `422` with detail `validation failed` and these errors.
pub fn check_structure(body: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    structure::validate(&model::SERVER, prefix, body, &mut errs);
    errs
}

/// Layer 1 for the `PATCH .../status` bodies: `status` required and one of [`STATUSES`],
/// `statusMessage` at most 500 characters.
pub fn check_status_body(body: &Value, prefix: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    structure::validate(&model::STATUS_BODY, prefix, body, &mut errs);
    errs
}

/// A body field found the way the checks above find it (exact key first, then case-insensitively, as
/// Go decodes JSON), so a handler reads exactly the value that was validated.
pub fn lookup_field<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.as_object().and_then(|o| model::lookup(o, key))
}

/// Layer 2 — the official semantic validators plus the `$schema` version gate
/// (`ValidationSchemaVersionAndSemantic`). Locations are `body.<path>`.
///
/// The publisher `_meta` size limit is *not* here: officially it is a service error (400), checked
/// after this gate; see [`Stored::check_publisher_meta_size`]. A request handler that has the [`Stored`]
/// body already calls [`Stored::check_semantic`] (one normalization per request).
pub fn check_semantic(body: &Value) -> Findings {
    Stored::of(body).check_semantic()
}

/// Layer 3 — full JSON Schema validation against the embedded 2025-12-11 schema
/// (`POST /validate` only).
pub fn check_schema(body: &Value) -> Vec<FieldError> {
    schema::check(body)
}

/// Everything `POST /validate` reports: schema, structure and semantic errors (de-duplicated by
/// location and message, first occurrence kept) and the semantic warnings.
pub fn validate_all(body: &Value) -> Findings {
    // As officially, the JSON Schema and the semantic rules see the body as decoded into the model (empty
    // optional strings and nulls gone); the request constraints see it as sent.
    let stored = Stored::of(body);
    let semantic = stored.check_semantic();
    let mut errors: Vec<FieldError> = Vec::new();
    let all = check_structure(body, "body")
        .into_iter()
        .chain(check_schema(stored.value()))
        .chain(semantic.errors);
    for e in all {
        if !errors
            .iter()
            .any(|x| x.location == e.location && x.message == e.message)
        {
            errors.push(e);
        }
    }
    Findings {
        errors,
        warnings: semantic.warnings,
    }
}

/// What the official registry stores for a published body: the body decoded into the Go model and
/// encoded again. Unknown fields (at every level) are dropped, every `_meta` key except
/// `io.modelcontextprotocol.registry/publisher-provided` is dropped, keys are matched
/// case-insensitively and written in their canonical spelling, `omitempty` fields that are empty
/// (`""`, `false`, `[]`, `{}`) or `null` are dropped, and publisher-provided numbers become
/// float64 values (`1.0` → `1`).
pub fn normalize_for_storage(body: &Value) -> Value {
    normalize::normalize(&model::SERVER, Some(body))
}

/// A body as it will be stored ([`normalize_for_storage`]), computed once per request: the semantic
/// gate, the `_meta` cap, the permission check's name and the stored document all read this one value.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored(Value);

impl Stored {
    pub fn of(body: &Value) -> Stored {
        Stored(normalize_for_storage(body))
    }
    pub fn value(&self) -> &Value {
        &self.0
    }
    pub fn into_value(self) -> Value {
        self.0
    }
    /// The name as it will be stored (keys match case-insensitively, as in the official model).
    pub fn name(&self) -> &str {
        self.0["name"].as_str().unwrap_or_default()
    }
    pub fn version(&self) -> &str {
        self.0["version"].as_str().unwrap_or_default()
    }

    /// Layer 2 on this body; see [`check_semantic`].
    pub fn check_semantic(&self) -> Findings {
        let mut findings = Findings::default();
        semantic::check(
            &self.0,
            &mut semantic::Out {
                findings: &mut findings,
            },
        );
        findings
    }

    /// The official 4 KB cap on `_meta["io.modelcontextprotocol.registry/publisher-provided"]`,
    /// measured as Go's `json.Marshal` output. On failure the publish answers `400 Failed to publish
    /// server` with this message in `errors[0].message`.
    pub fn check_publisher_meta_size(&self) -> Result<(), String> {
        const MAX: usize = 4 * 1024;
        let Some(provided) = self
            .0
            .get("_meta")
            .and_then(|m| m.get(PUBLISHER_PROVIDED_KEY))
        else {
            return Ok(());
        };
        let len = normalize::go_json_len(provided);
        if len > MAX {
            return Err(format!(
                "_meta.{PUBLISHER_PROVIDED_KEY} extension exceeds 4KB limit ({len} bytes)"
            ));
        }
        Ok(())
    }
}

/// Permission pattern matching: `*` matches everything, a trailing `*` is a prefix match,
/// anything else must equal the name.
pub fn pattern_allows(pattern: &str, name: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
