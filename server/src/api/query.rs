//! Query-string parsing with the official server's answers: constraint failures are 422 `validation failed`
//! with a `query.<name>` location; a bad `updated_since` or an explicit `include_deleted=false` next to it is
//! 400 (handler checks in the official code).

use super::problem::{ApiResult, ErrorDetail, Problem};
use crate::store::{Cursor, ListQuery, VersionFilter};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

pub const DEFAULT_LIMIT: usize = 30;
pub const MAX_LIMIT: usize = 100;

/// Query parameters as a map, read as huma reads them (Go's `url.Values.Get`): the first occurrence of a
/// repeated key wins, and an empty value is the same as an absent parameter.
pub fn params(raw: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// The official minimum for `search` (characters after trimming surrounding whitespace).
pub const MIN_SEARCH_CHARS: usize = 3;

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
                "invalid boolean",
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
    let updated_since = match p.get("updated_since") {
        None => None,
        Some(raw) => Some(parse_time(raw).ok_or_else(|| {
            Problem::bad_request(
                "Invalid updated_since format: expected RFC3339 timestamp (e.g., 2025-08-07T13:15:04.280Z)",
            )
        })?),
    };
    // Checked after updated_since and before the version filter, as officially.
    if let Some(search) = p.get("search")
        && search.trim().chars().count() < MIN_SEARCH_CHARS
    {
        return Err(Problem::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "search must contain at least 3 characters after trimming surrounding whitespace",
        ));
    }
    // A feed of changes must see deletions: with updated_since, deleted rows are always included.
    let include_deleted = match (updated_since.is_some(), include_deleted) {
        (true, Some(false)) => {
            return Err(Problem::bad_request(
                "Cannot set include_deleted=false when using updated_since (incremental sync requires deleted servers)",
            ));
        }
        (true, _) => true,
        (false, v) => v.unwrap_or(false),
    };
    let version = match p.get("version").map(String::as_str) {
        None => None,
        Some("latest") => Some(VersionFilter::Latest),
        Some(v) => Some(VersionFilter::Exact(v.to_owned())),
    };
    Ok(ListQuery {
        after: p.get("cursor").map(|c| Cursor::parse(c)),
        limit,
        search: p.get("search").cloned(),
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

    #[test]
    fn empty_values_are_absent_and_the_first_occurrence_wins() {
        let l = q("limit=&include_deleted=&version=&cursor=&search=&updated_since=").unwrap();
        assert_eq!(l, q("").unwrap());
        assert_eq!(q("limit=1&limit=2").unwrap().limit, 1);
        assert_eq!(q("limit=&limit=2").unwrap().limit, 30);
    }

    #[test]
    fn search_needs_three_characters_after_trimming() {
        for short in [
            "search=ab",
            "search=_",
            "search=%25",
            "search=%20ab%20",
            "search=%C3%A9t",
        ] {
            let p = q(short).unwrap_err();
            assert_eq!((p.status, p.errors.len()), (422, 0), "{short}");
            assert_eq!(
                p.detail,
                "search must contain at least 3 characters after trimming surrounding whitespace"
            );
        }
        assert_eq!(
            q("search=%20abc%20").unwrap().search.as_deref(),
            Some(" abc ")
        );
        assert_eq!(
            q("search=%C3%A9t%C3%A9").unwrap().search.as_deref(),
            Some("été")
        );
        // updated_since is checked first, as officially.
        assert_eq!(q("updated_since=x&search=a").unwrap_err().status, 400);
    }
}
