//! Query-string parsing with the official server's answers: constraint failures are 422 `validation failed`
//! with a `query.<name>` location; a bad `updated_since` or an explicit `include_deleted=false` next to it is
//! 400 (handler checks in the official code).

use super::problem::{ApiResult, ErrorDetail, Problem};
use crate::store::{Cursor, ListQuery, VersionFilter};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub const DEFAULT_LIMIT: usize = 30;
pub const MAX_LIMIT: usize = 100;

/// Query parameters as a map; the last occurrence of a repeated key wins.
pub fn params(raw: Option<&str>) -> HashMap<String, String> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

/// Go's strconv.ParseBool, which huma uses for boolean parameters.
fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn bool_param(
    p: &HashMap<String, String>,
    key: &str,
    errors: &mut Vec<ErrorDetail>,
) -> Option<bool> {
    let raw = p.get(key)?;
    match parse_bool(raw) {
        Some(b) => Some(b),
        None => {
            errors.push(Problem::field(
                &format!("query.{key}"),
                "invalid boolean value",
                Some(serde_json::Value::String(raw.clone())),
            ));
            None
        }
    }
}

/// `include_deleted` for the versions/detail endpoints.
pub fn include_deleted(p: &HashMap<String, String>) -> ApiResult<bool> {
    let mut errors = Vec::new();
    let v = bool_param(p, "include_deleted", &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(v.unwrap_or(false))
}

/// RFC 3339 with optional fractional seconds.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The filters of `GET /servers`.
pub fn list_query(p: &HashMap<String, String>) -> ApiResult<ListQuery> {
    let mut errors = Vec::new();
    let limit = match p.get("limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n < 1 => {
                errors.push(Problem::field(
                    "query.limit",
                    "expected number >= 1",
                    Some(n.into()),
                ));
                DEFAULT_LIMIT
            }
            Ok(n) if n > MAX_LIMIT as i64 => {
                errors.push(Problem::field(
                    "query.limit",
                    "expected number <= 100",
                    Some(n.into()),
                ));
                DEFAULT_LIMIT
            }
            Ok(n) => n as usize,
            Err(_) => {
                errors.push(Problem::field(
                    "query.limit",
                    "invalid integer",
                    Some(serde_json::Value::String(raw.clone())),
                ));
                DEFAULT_LIMIT
            }
        },
    };
    let include_deleted = bool_param(p, "include_deleted", &mut errors);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let updated_since = match p.get("updated_since").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(parse_time(raw).ok_or_else(|| {
            Problem::bad_request(
                "Invalid updated_since format: expected RFC3339 timestamp (e.g., 2025-08-07T13:15:04.280Z)",
            )
        })?),
    };
    // A feed of changes must see deletions: with updated_since, deleted rows are always included.
    let include_deleted = match (updated_since.is_some(), include_deleted) {
        (true, Some(false)) => {
            return Err(Problem::bad_request(
                "include_deleted cannot be false when updated_since is set: incremental updates always include deleted servers",
            ));
        }
        (true, _) => true,
        (false, v) => v.unwrap_or(false),
    };
    let version = match p.get("version").map(String::as_str) {
        None | Some("") => None,
        Some("latest") => Some(VersionFilter::Latest),
        Some(v) => Some(VersionFilter::Exact(v.to_owned())),
    };
    Ok(ListQuery {
        after: p
            .get("cursor")
            .filter(|c| !c.is_empty())
            .map(|c| Cursor::parse(c)),
        limit,
        search: p.get("search").filter(|s| !s.is_empty()).cloned(),
        updated_since,
        version,
        include_deleted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> ApiResult<ListQuery> {
        list_query(&params(Some(s)))
    }

    #[test]
    fn defaults() {
        let l = q("").unwrap();
        assert_eq!(l.limit, 30);
        assert!(!l.include_deleted);
        assert_eq!(l.after, None);
    }

    #[test]
    fn limit_bounds_are_422_with_location() {
        for bad in ["limit=0", "limit=101", "limit=abc", "limit=-5"] {
            let p = q(bad).unwrap_err();
            assert_eq!(p.status, 422, "{bad}");
            assert_eq!(p.detail, "validation failed");
            assert_eq!(p.errors[0].location.as_deref(), Some("query.limit"));
        }
        assert_eq!(q("limit=100").unwrap().limit, 100);
        assert_eq!(q("limit=1").unwrap().limit, 1);
    }

    #[test]
    fn updated_since_forces_include_deleted() {
        let l = q("updated_since=2025-08-07T13:15:04.280Z").unwrap();
        assert!(l.include_deleted);
        assert!(l.updated_since.is_some());
        assert!(
            q("updated_since=2025-08-07T13:15:04Z&include_deleted=true")
                .unwrap()
                .include_deleted
        );
        assert_eq!(
            q("updated_since=2025-08-07T13:15:04Z&include_deleted=false")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(q("updated_since=yesterday").unwrap_err().status, 400);
        assert_eq!(q("include_deleted=maybe").unwrap_err().status, 422);
    }

    #[test]
    fn cursor_version_and_search() {
        let l = q("cursor=com.example%2Fa%3A1.0.0&version=latest&search=a_b").unwrap();
        assert_eq!(
            l.after,
            Some(Cursor {
                name: "com.example/a".into(),
                version: Some("1.0.0".into())
            })
        );
        assert_eq!(l.version, Some(VersionFilter::Latest));
        assert_eq!(l.search.as_deref(), Some("a_b"));
        assert_eq!(
            q("version=1.2.3").unwrap().version,
            Some(VersionFilter::Exact("1.2.3".into()))
        );
        assert_eq!(
            q("cursor=com.example%2Fa").unwrap().after.unwrap().version,
            None
        );
    }
}
