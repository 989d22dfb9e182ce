//! A faithful port of the parts of Go's `net/url.Parse` the official registry relies on.
//!
//! The official server decides "is this a valid URL", "is it absolute", "what is its scheme / host"
//! with Go's `url.Parse`, which is far more lenient than WHATWG or RFC 3986 parsers (the `url` crate
//! would accept or reject different inputs and normalises hosts). Error texts are Go's
//! `*url.Error` strings (`parse "<input>": <reason>`), because the official messages embed them
//! (`invalid websiteUrl: parse "ht tp://x": first path segment in URL cannot contain colon`,
//! huma's `expected string to be RFC 3986 uri: parse ...`).

/// The pieces of a parsed URL that the validators look at (Go's `url.URL`, reduced).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoUrl {
    /// Lower-cased scheme (Go lower-cases it while parsing); empty for relative references.
    pub scheme: String,
    /// Rootless remainder after `scheme:` (e.g. `mailto:x` → `x`).
    pub opaque: String,
    /// Percent-decoded `host[:port]`.
    pub host: String,
    /// Percent-decoded path.
    pub path: String,
}

impl GoUrl {
    /// Go's `URL.IsAbs`: an absolute URL is one with a scheme.
    pub fn is_abs(&self) -> bool {
        !self.scheme.is_empty()
    }

    /// Go's `URL.Hostname`: the host without port and without IPv6 brackets.
    pub fn hostname(&self) -> &str {
        let mut host = self.host.as_str();
        if let Some(colon) = host.rfind(':')
            && valid_optional_port(&host[colon..])
        {
            host = &host[..colon];
        }
        if host.starts_with('[') && host.ends_with(']') && host.len() >= 2 {
            host = &host[1..host.len() - 1];
        }
        host
    }
}

/// Go's `url.Parse(raw)`. `Err` holds the full `*url.Error` text.
pub(crate) fn parse(raw: &str) -> Result<GoUrl, String> {
    let (without_fragment, fragment) = match raw.split_once('#') {
        Some((u, f)) => (u, Some(f)),
        None => (raw, None),
    };
    let url = parse_inner(without_fragment)
        .map_err(|e| format!("parse {}: {}", go_quote(without_fragment), e))?;
    if let Some(frag) = fragment
        && !frag.is_empty()
    {
        unescape(frag, Mode::Fragment).map_err(|e| format!("parse {}: {}", go_quote(raw), e))?;
    }
    Ok(url)
}

fn parse_inner(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < b' ' || b == 0x7f) {
        return Err("net/url: invalid control character in URL".to_string());
    }
    let mut url = GoUrl::default();
    if raw == "*" {
        url.path = "*".to_string();
        return Ok(url);
    }
    let (scheme, rest) = get_scheme(raw)?;
    url.scheme = scheme.to_ascii_lowercase();

    let mut rest = if rest.ends_with('?') && rest.matches('?').count() == 1 {
        &rest[..rest.len() - 1]
    } else {
        rest.split_once('?').map_or(rest, |(before, _)| before)
    };

    if !rest.starts_with('/') {
        if !url.scheme.is_empty() {
            url.opaque = rest.to_string();
            return Ok(url);
        }
        let segment = rest.split_once('/').map_or(rest, |(s, _)| s);
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".to_string());
        }
    }

    if (!url.scheme.is_empty() || !rest.starts_with("///")) && rest.starts_with("//") {
        let authority_and_path = &rest[2..];
        let (authority, path) = match authority_and_path.find('/') {
            Some(i) => (&authority_and_path[..i], &authority_and_path[i..]),
            None => (authority_and_path, ""),
        };
        url.host = parse_authority(authority)?;
        rest = path;
    }
    url.path = unescape(rest, Mode::Path)?;
    Ok(url)
}

fn get_scheme(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' => {
                if i == 0 {
                    return Ok(("", raw));
                }
            }
            b':' => {
                if i == 0 {
                    return Err("missing protocol scheme".to_string());
                }
                return Ok((&raw[..i], &raw[i + 1..]));
            }
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn parse_authority(authority: &str) -> Result<String, String> {
    let at = authority.rfind('@');
    let host = parse_host(match at {
        Some(i) => &authority[i + 1..],
        None => authority,
    })?;
    if let Some(i) = at {
        let userinfo = &authority[..i];
        if !userinfo.bytes().all(valid_userinfo_byte) {
            return Err("net/url: invalid userinfo".to_string());
        }
        match userinfo.split_once(':') {
            None => {
                unescape(userinfo, Mode::UserPassword)?;
            }
            Some((user, pass)) => {
                unescape(user, Mode::UserPassword)?;
                unescape(pass, Mode::UserPassword)?;
            }
        }
    }
    Ok(host)
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(close) = host.rfind(']') else {
            return Err("missing ']' in host".to_string());
        };
        let colon_port = &host[close + 1..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
        if let Some(zone) = host[..close].find("%25") {
            let h1 = unescape(&host[..zone], Mode::Host)?;
            let h2 = unescape(&host[zone..close], Mode::Zone)?;
            let h3 = unescape(&host[close..], Mode::Host)?;
            return Ok(h1 + &h2 + &h3);
        }
    } else if let Some(colon) = host.rfind(':') {
        let colon_port = &host[colon..];
        if !valid_optional_port(colon_port) {
            return Err(format!("invalid port {} after host", go_quote(colon_port)));
        }
    }
    unescape(host, Mode::Host)
}

fn valid_optional_port(port: &str) -> bool {
    if port.is_empty() {
        return true;
    }
    let Some(digits) = port.strip_prefix(':') else {
        return false;
    };
    digits.bytes().all(|b| b.is_ascii_digit())
}

fn valid_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.'
                | b'_'
                | b':'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b'%'
                | b'@'
        )
        || b >= 0x80
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Path,
    Host,
    Zone,
    UserPassword,
    Fragment,
}

fn should_escape(c: u8, mode: Mode) -> bool {
    if c.is_ascii_alphanumeric() {
        return false;
    }
    if matches!(mode, Mode::Host | Mode::Zone)
        && matches!(
            c,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'['
                | b']'
                | b'<'
                | b'>'
                | b'"'
        )
    {
        return false;
    }
    match c {
        b'-' | b'_' | b'.' | b'~' => return false,
        b'$' | b'&' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?' | b'@' => match mode {
            Mode::Path => return c == b'?',
            Mode::UserPassword => return matches!(c, b'@' | b'/' | b'?' | b':'),
            Mode::Fragment => return false,
            Mode::Host | Mode::Zone => {}
        },
        _ => {}
    }
    if mode == Mode::Fragment && matches!(c, b'!' | b'(' | b')' | b'*') {
        return false;
    }
    true
}

/// Go's `unescape`: validates `%XX` escapes (and host characters) and returns the decoded text.
fn unescape(s: &str, mode: Mode) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if i + 2 >= bytes.len()
                    || !bytes[i + 1].is_ascii_hexdigit()
                    || !bytes[i + 2].is_ascii_hexdigit()
                {
                    let end = (i + 3).min(bytes.len());
                    let bad = String::from_utf8_lossy(&bytes[i..end]).into_owned();
                    return Err(format!("invalid URL escape {}", go_quote(&bad)));
                }
                let escape = &s[i..i + 3];
                if mode == Mode::Host && hex_val(bytes[i + 1]) < 8 && escape != "%25" {
                    return Err(format!("invalid URL escape {}", go_quote(escape)));
                }
                if mode == Mode::Zone {
                    let v = hex_val(bytes[i + 1]) << 4 | hex_val(bytes[i + 2]);
                    if escape != "%25" && v != b' ' && should_escape(v, Mode::Host) {
                        return Err(format!("invalid URL escape {}", go_quote(escape)));
                    }
                }
                i += 3;
            }
            c => {
                if matches!(mode, Mode::Host | Mode::Zone) && c < 0x80 && should_escape(c, mode) {
                    return Err(format!(
                        "invalid character {} in host name",
                        go_quote(&s[i..i + 1])
                    ));
                }
                i += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(hex_val(bytes[i + 1]) << 4 | hex_val(bytes[i + 2]));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

/// Go's `strconv.Quote` (what `%q` prints for a string).
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                if (c as u32) <= 0xffff {
                    out.push_str(&format!("\\u{:04x}", c as u32));
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%v` for a `[]string`: `[a b c]`.
pub(crate) fn go_string_slice(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> GoUrl {
        parse(raw).unwrap_or_else(|e| panic!("{raw} should parse: {e}"))
    }

    #[test]
    fn parses_absolute_urls() {
        let u = ok("HTTPS://Example.com:8443/a%20b?q=1#frag");
        assert_eq!(u.scheme, "https");
        assert_eq!(u.host, "Example.com:8443");
        assert_eq!(u.hostname(), "Example.com");
        assert_eq!(u.path, "/a b");
        assert!(u.is_abs());
    }

    #[test]
    fn relative_and_opaque() {
        let u = ok("example.com/docs");
        assert!(!u.is_abs());
        assert_eq!(u.path, "example.com/docs");
        assert_eq!(u.host, "");
        let m = ok("mailto:someone@example.com");
        assert_eq!(m.scheme, "mailto");
        assert_eq!(m.opaque, "someone@example.com");
        assert_eq!(ok("").path, "");
        assert_eq!(ok("//host.example/x").host, "host.example");
    }

    #[test]
    fn hostname_strips_brackets_and_port() {
        assert_eq!(ok("https://[::1]:80/x").hostname(), "::1");
        assert_eq!(ok("https://127.0.0.1:3000").hostname(), "127.0.0.1");
        assert_eq!(ok("https://user:pw@h.example/").hostname(), "h.example");
    }

    #[test]
    fn go_error_texts() {
        assert_eq!(
            parse("ht tp://example.com/docs").unwrap_err(),
            r#"parse "ht tp://example.com/docs": first path segment in URL cannot contain colon"#
        );
        assert_eq!(
            parse("https://example.com/has\nnewline").unwrap_err(),
            r#"parse "https://example.com/has\nnewline": net/url: invalid control character in URL"#
        );
        assert_eq!(
            parse("://x").unwrap_err(),
            r#"parse "://x": missing protocol scheme"#
        );
        assert_eq!(
            parse("https://example.com:abc/").unwrap_err(),
            r#"parse "https://example.com:abc/": invalid port ":abc" after host"#
        );
        assert_eq!(
            parse("https://exa mple.com/").unwrap_err(),
            r#"parse "https://exa mple.com/": invalid character " " in host name"#
        );
        assert_eq!(
            parse("https://example.com/%zz").unwrap_err(),
            r#"parse "https://example.com/%zz": invalid URL escape "%zz""#
        );
        assert_eq!(
            parse("https://[::1/").unwrap_err(),
            r#"parse "https://[::1/": missing ']' in host"#
        );
        assert_eq!(
            parse("https://x.example/#%zz").unwrap_err(),
            r#"parse "https://x.example/#%zz": invalid URL escape "%zz""#
        );
    }

    #[test]
    fn lenient_like_go() {
        // Go accepts these; a WHATWG parser would not treat them the same way.
        ok("https://example.com/has space");
        ok("https://example.com/\"oops");
        ok("not-a-valid-url");
        ok("https://example.com/{path}");
        // ...but not braces in a host, which is why template variables are substituted first.
        assert_eq!(
            parse("https://{host}/mcp").unwrap_err(),
            r#"parse "https://{host}/mcp": invalid character "{" in host name"#
        );
        ok("https://example.com/%E2%9C%93");
    }

    #[test]
    fn quoting_and_slices() {
        assert_eq!(go_quote("a\"b\\c\td"), r#""a\"b\\c\td""#);
        assert_eq!(go_quote("\u{1}"), r#""\x01""#);
        assert_eq!(go_string_slice(&[]), "[]");
        assert_eq!(
            go_string_slice(&["host".to_string(), "port".to_string()]),
            "[host port]"
        );
    }
}
