//! Path parameters decoded as Go's `url.PathUnescape` does (the official server's behaviour): `%2F` → `/`,
//! `%2B` → `+`, a literal `+` stays `+`, and a malformed escape is a 400 instead of being passed through.

use super::problem::Problem;
use axum::extract::{FromRequestParts, MatchedPath};
use axum::http::request::Parts;

fn unescape(name: &str, raw: &str) -> Result<String, Problem> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Two hex digits exactly: `from_str_radix` alone would also take a sign (`%+1`).
            let hex = bytes
                .get(i + 1..i + 3)
                .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                .and_then(|h| std::str::from_utf8(h).ok());
            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                Some(b) => out.push(b),
                None => {
                    return Err(Problem::bad_request(format!(
                        "invalid URL escape in path parameter {name}: {:?}",
                        String::from_utf8_lossy(&bytes[i..(i + 3).min(bytes.len())])
                    )));
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| Problem::bad_request(format!("path parameter {name} is not valid UTF-8")))
}

/// The still-encoded parameter values, found by laying the request path over its route template (axum's
/// own extractors hand out values that are already percent-decoded, which would decode `%252F` twice).
async fn params(parts: &mut Parts) -> Result<Vec<(String, String)>, Problem> {
    let template = MatchedPath::from_request_parts(parts, &())
        .await
        .map_err(|e| Problem::bad_request(e.to_string()))?;
    // Aligned from the end: inside a nested router the URI has lost its prefix (`/v0.1`), the template
    // has not.
    let template: Vec<&str> = template.as_str().split('/').collect();
    let raw: Vec<&str> = parts.uri.path().split('/').collect();
    if template.len() < raw.len() {
        return Err(Problem::bad_request("path does not match its route"));
    }
    template
        .iter()
        .rev()
        .zip(raw.into_iter().rev())
        .filter_map(|(t, r)| {
            t.strip_prefix('{')
                .and_then(|t| t.strip_suffix('}'))
                .map(|k| (k, r))
        })
        .map(|(k, r)| Ok((k.to_owned(), unescape(k, r)?)))
        .collect()
}

fn take(params: &[(String, String)], key: &str) -> Result<String, Problem> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .ok_or_else(|| Problem::bad_request(format!("missing path parameter {key}")))
}

/// `{name}`.
pub struct ServerName(pub String);

/// `{name}` and `{version}`.
pub struct ServerVersion(pub String, pub String);

impl<S: Send + Sync> FromRequestParts<S> for ServerName {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let p = params(parts).await?;
        Ok(ServerName(take(&p, "name")?))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ServerVersion {
    type Rejection = Problem;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Problem> {
        let p = params(parts).await?;
        Ok(ServerVersion(take(&p, "name")?, take(&p, "version")?))
    }
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn decodes_like_go_path_unescape() {
        assert_eq!(unescape("n", "com.example%2Fa").unwrap(), "com.example/a");
        assert_eq!(unescape("v", "1.0.0%2Bbuild").unwrap(), "1.0.0+build");
        assert_eq!(unescape("v", "1.0.0+build").unwrap(), "1.0.0+build");
        assert!(unescape("n", "bad%ZZ").is_err());
        assert!(unescape("n", "bad%2").is_err());
        assert!(unescape("n", "%FF").is_err());
        // A sign is not a hex digit (Rust's from_str_radix would accept "+1" and "-0").
        assert!(unescape("n", "a%+1").is_err());
        assert!(unescape("n", "a%-0").is_err());
    }
}
