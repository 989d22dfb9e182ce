//! Layer 1: the request-body checks huma runs from the Go struct tags, before any handler code.
//!
//! Mirrors `huma.Validate` (v2): properties in byte order of their names, a missing required property is reported
//! at the *parent* location with the parent object as value, `null` is ignored for optional fields,
//! a type mismatch stops checking that value, string lengths count Unicode code points, keys
//! match case-insensitively, and a key the struct does not have is an `unexpected property` (after the
//! struct's own checks, at `<path>.<key>`). Messages are huma's `validation.Msg*` texts.

use serde_json::{Map, Value};

use super::FieldError;
use super::gourl;
use super::model::{self, Node, Prop, StrRules};

/// Validate `value` against `node`, appending huma-style errors located under `path`.
pub(crate) fn validate(node: &Node, path: &str, value: &Value, errs: &mut Vec<FieldError>) {
    match node {
        Node::Str(rules) => validate_str(rules, path, value, errs),
        Node::Bool => {
            if !value.is_boolean() {
                errs.push(err(path, "expected boolean", value));
            }
        }
        Node::Array(item) => match value {
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    validate(item, &format!("{path}[{i}]"), v, errs);
                }
            }
            _ => errs.push(err(path, "expected array", value)),
        },
        Node::Struct(props) => match value {
            Value::Object(obj) => validate_struct(props, path, obj, errs),
            _ => errs.push(err(path, "expected object", value)),
        },
        Node::Map(item) => match value {
            Value::Object(obj) => {
                for (k, v) in obj {
                    if k.contains('\0') {
                        errs.push(err(path, "expected keys without NUL characters", value));
                    }
                    validate(item, &format!("{path}.{k}"), v, errs);
                }
            }
            _ => errs.push(err(path, "expected object", value)),
        },
        Node::FreeObject => {
            if !value.is_object() {
                errs.push(err(path, "expected object", value));
            } else {
                nul_in_free_form(path, value, errs);
            }
        }
    }
}

fn validate_struct(
    props: &[Prop],
    path: &str,
    obj: &Map<String, Value>,
    errs: &mut Vec<FieldError>,
) {
    // huma checks an object's properties in byte order of their names (it sorts them), not in the order
    // of the Go struct: the errors come out in that order.
    let mut sorted: Vec<&Prop> = props.iter().collect();
    sorted.sort_by_key(|p| p.name);
    for prop in sorted {
        match model::lookup(obj, prop.name) {
            None => {
                if prop.required {
                    errs.push(FieldError::constraint(
                        path.to_string(),
                        format!("expected required property {} to be present", prop.name),
                        Some(Value::Object(obj.clone())),
                    ));
                }
            }
            Some(Value::Null) if !prop.required => {}
            Some(v) => validate(prop.node, &format!("{path}.{}", prop.name), v, errs),
        }
    }
    // Then what the struct does not have (huma: `additionalProperties: false`), a key matching a field
    // case-insensitively excepted. What a publisher sends is stored or refused, never silently cut.
    for key in obj.keys() {
        if !props.iter().any(|p| model::fold_eq(p.name, key)) {
            errs.push(FieldError::constraint(
                format!("{path}.{key}"),
                "unexpected property".into(),
                Some(Value::Object(obj.clone())),
            ));
        }
    }
}

/// NULs inside free-form values (the publisher `_meta`), keys included.
fn nul_in_free_form(path: &str, value: &Value, errs: &mut Vec<FieldError>) {
    match value {
        Value::String(s) if s.contains('\0') => {
            errs.push(err(path, "expected string without NUL characters", value));
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                nul_in_free_form(&format!("{path}[{i}]"), v, errs);
            }
        }
        Value::Object(obj) => {
            for (k, v) in obj {
                if k.contains('\0') {
                    errs.push(err(path, "expected keys without NUL characters", value));
                }
                nul_in_free_form(&format!("{path}.{k}"), v, errs);
            }
        }
        _ => {}
    }
}

fn validate_str(rules: &StrRules, path: &str, value: &Value, errs: &mut Vec<FieldError>) {
    let Some(s) = value.as_str() else {
        errs.push(err(path, "expected string", value));
        return;
    };
    // No backend can hold a NUL (PostgreSQL text refuses it; SQLite would cut comparisons at it): refused
    // here, at the field, on every backend alike.
    if s.contains('\0') {
        errs.push(err(path, "expected string without NUL characters", value));
        return;
    }
    let len = s.chars().count();
    if let Some(min) = rules.min
        && len < min
    {
        errs.push(err(path, &format!("expected length >= {min}"), value));
    }
    if let Some(max) = rules.max
        && len > max
    {
        errs.push(err(path, &format!("expected length <= {max}"), value));
    }
    if let Some(p) = rules.pattern
        && !p.is_match(s)
    {
        errs.push(err(
            path,
            &format!("expected string to match pattern {}", p.source()),
            value,
        ));
    }
    if rules.format_uri
        && let Err(e) = gourl::parse(s)
    {
        errs.push(err(
            path,
            &format!("expected string to be RFC 3986 uri: {e}"),
            value,
        ));
    }
    if !rules.one_of.is_empty() && !rules.one_of.contains(&s) {
        let msg = format!(
            "expected value to be one of \"{}\"",
            rules.one_of.join(", ")
        );
        errs.push(err(path, &msg, value));
    }
}

fn err(path: &str, message: &str, value: &Value) -> FieldError {
    // huma's ErrorDetail.Value is `omitempty`: a JSON null is not echoed back.
    FieldError::constraint(
        path.to_string(),
        message.to_string(),
        (!value.is_null()).then(|| value.clone()),
    )
}

#[cfg(test)]
mod tests;
