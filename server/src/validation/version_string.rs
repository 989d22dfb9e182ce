//! The version-string ban shared by the server `version` and each package `version`
//! (`validateVersion` / `looksLikeVersionRange` in the official validators).

use regex::Regex;
use std::sync::OnceLock;

use super::gourl::go_quote;

/// Official message for the reserved `latest`.
pub const MSG_RESERVED_LATEST: &str = "version string 'latest' is reserved and cannot be used";
/// Official message prefix for range-like versions (`<prefix>: "<version>"`).
pub const MSG_LOOKS_LIKE_RANGE: &str = "version must be a specific version, not a range";

/// The official rule name (`/validate`'s `reference`) of a message of [`check_version_string`].
pub fn reference(message: &str) -> &'static str {
    if message == MSG_RESERVED_LATEST {
        "reserved-version-string"
    } else {
        "version-looks-like-range"
    }
}

// Go RE2: `\s` is [\t\n\f\r ] and `\d` is [0-9]; spelled out so Rust's Unicode classes don't widen them.
const S: &str = r"[\t\n\f\r ]";
const VER: &str = r"v?[0-9]+(?:\.[0-9]+){0,3}(?:-[0-9A-Za-z.-]+)?";

struct RangeRegexes {
    comparator: Regex,
    hyphen: Regex,
    or: Regex,
    dotted: Regex,
}

fn regexes() -> &'static RangeRegexes {
    static R: OnceLock<RangeRegexes> = OnceLock::new();
    R.get_or_init(|| {
        let build = |src: String| Regex::new(&src).expect("static regex compiles");
        RangeRegexes {
            // "^1.2.3", "~1.2.3", ">=1.0.0", "<=1.0.0", ">1.0.0", "<1.0.0", "=1.0.0"
            comparator: build(format!(r"^{S}*(?:\^|~|>=|<=|>|<|=){S}*{VER}{S}*$")),
            // "1.2.3 - 2.0.0"
            hyphen: build(format!(r"^{S}*{VER}{S}-{S}*{VER}{S}*$")),
            // "1.2 || 1.3"
            or: build(format!(r"^{S}*(?:{VER}{S}*)(?:\|\|{S}*{VER}{S}*)+$")),
            // "1.x", "1.2.*", "x.1", ...
            dotted: build(format!(
                r"^{S}*(?:v?[0-9]+|x|X|\*)(?:\.(?:[0-9]+|x|X|\*)){{1,2}}(?:-[0-9A-Za-z.-]+)?{S}*$"
            )),
        }
    })
}

/// `looksLikeVersionRange`: common semver range syntaxes and dotted wildcards.
pub(crate) fn looks_like_range(version: &str) -> bool {
    let trimmed = version.trim();
    if trimmed.is_empty() {
        return false;
    }
    let r = regexes();
    if r.comparator.is_match(trimmed) || r.hyphen.is_match(trimmed) || r.or.is_match(trimmed) {
        return true;
    }
    if r.dotted.is_match(trimmed) {
        return trimmed.contains(['x', 'X', '*']);
    }
    false
}

/// The exact version-string ban used for server and package versions.
///
/// `Err` carries the official message: `version string 'latest' is reserved and cannot be used`,
/// or `version must be a specific version, not a range: "^1.2.3"`. An empty string passes (the
/// length rules live in the struct-tag layer).
pub fn check_version_string(v: &str) -> Result<(), String> {
    if v == "latest" {
        return Err(MSG_RESERVED_LATEST.to_string());
    }
    if looks_like_range(v) {
        return Err(format!("{MSG_LOOKS_LIKE_RANGE}: {}", go_quote(v)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_is_reserved() {
        assert_eq!(
            check_version_string("latest").unwrap_err(),
            MSG_RESERVED_LATEST
        );
        // Exact match only, like the Go code.
        assert!(check_version_string("Latest").is_ok());
        assert!(check_version_string("latest-1").is_ok());
    }

    #[test]
    fn comparator_ranges() {
        for v in [
            "^1.2.3",
            "~1.2.3",
            ">=1.0.0",
            "<=1.0.0",
            ">1.0.0",
            "<1.0.0",
            "=1.0.0",
            ">= 1.2.3",
            " ^v1.2 ",
            "~1.2.3-beta.1",
        ] {
            assert_eq!(
                check_version_string(v).unwrap_err(),
                format!(
                    "version must be a specific version, not a range: {}",
                    go_quote(v)
                ),
                "{v}"
            );
        }
        assert_eq!(
            check_version_string("^1.2.3").unwrap_err(),
            r#"version must be a specific version, not a range: "^1.2.3""#
        );
    }

    #[test]
    fn hyphen_and_or_ranges() {
        for v in [
            "1.2.3 - 2.0.0",
            "1 - 2",
            "v1.0.0 -v2",
            "1.2.3 -2.0.0",
            "1.2 || 1.3",
            "1||2||3",
            "1.0.0-rc.1 || 2.0.0",
        ] {
            assert!(check_version_string(v).is_err(), "{v}");
        }
        // Not a range: free-form text around a hyphen, or a prerelease.
        for v in ["snapshot - 2025.09", "1.2.3-2.0.0", "1.2.3- 2.0.0"] {
            assert!(check_version_string(v).is_ok(), "{v}");
        }
    }

    #[test]
    fn dotted_wildcards() {
        for v in [
            "1.x",
            "1.X",
            "1.*",
            "1.2.x",
            "1.2.*",
            "x.1",
            "*.*",
            "v1.x-beta",
        ] {
            assert!(check_version_string(v).is_err(), "{v}");
        }
        for v in [
            "1.2",
            "1.2.3",
            "1.2.3.4",
            "2021.03.15",
            "1.2.3-alpha.1",
            "v1.2.3",
            "snapshot",
            "1.2.3+build.5",
            "1.2.3-x+y",
        ] {
            assert!(check_version_string(v).is_ok(), "{v}");
        }
        // Quirk kept from the official regexes: any x/X/* in a dotted version's prerelease counts.
        for v in ["1.2.3-linux-x64", "1.0.0-next.1", "2.0.0-X"] {
            assert!(check_version_string(v).is_err(), "{v}");
        }
    }

    #[test]
    fn go_whitespace_and_digits_only() {
        // U+00A0 is not Go RE2 `\s`, and trimming happens only with Unicode space for the emptiness test.
        assert!(check_version_string("^\u{a0}1.2.3").is_ok());
        // Arabic-Indic digits are not Go `\d`.
        assert!(check_version_string("^١.٢.٣").is_ok());
        assert!(check_version_string("").is_ok());
        assert!(check_version_string("   ").is_ok());
    }
}
