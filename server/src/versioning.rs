//! Version ordering used by the official registry to decide `isLatest`
//! (`internal/service/versioning.go`, built on `golang.org/x/mod/semver`).
//!
//! - A version is "semver" when `golang.org/x/mod/semver` accepts it after adding a `v` prefix if
//!   absent, with all three numeric core parts written out (`1.2` is not semver here).
//! - Both semver: semver precedence (build metadata ignored, so `1.0.0+a` == `1.0.0+b`).
//! - Neither: the later `published_at` wins.
//! - Exactly one: the semver one wins. (The versioning docs say a non-semver version always
//!   becomes latest; the code, followed here, says otherwise.)

use std::cmp::Ordering;

/// A parsed `golang.org/x/mod/semver` version.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parsed<'a> {
    major: &'a str,
    minor: &'a str,
    patch: &'a str,
    /// Including the leading `-`, or empty.
    prerelease: &'a str,
    /// True when minor or patch was omitted (`v1`, `v1.2`), which semver.IsValid accepts.
    short: bool,
}

/// `semver.parse` (expects the leading `v`).
fn parse(v: &str) -> Option<Parsed<'_>> {
    let rest = v.strip_prefix('v')?;
    let (major, rest) = parse_int(rest)?;
    if rest.is_empty() {
        return Some(Parsed {
            major,
            minor: "0",
            patch: "0",
            prerelease: "",
            short: true,
        });
    }
    let rest = rest.strip_prefix('.')?;
    let (minor, rest) = parse_int(rest)?;
    if rest.is_empty() {
        return Some(Parsed {
            major,
            minor,
            patch: "0",
            prerelease: "",
            short: true,
        });
    }
    let rest = rest.strip_prefix('.')?;
    let (patch, mut rest) = parse_int(rest)?;
    let mut prerelease = "";
    if rest.starts_with('-') {
        let (p, r) = parse_prerelease(rest)?;
        prerelease = p;
        rest = r;
    }
    if rest.starts_with('+') {
        rest = parse_build(rest)?;
    }
    if !rest.is_empty() {
        return None;
    }
    Some(Parsed {
        major,
        minor,
        patch,
        prerelease,
        short: false,
    })
}

fn parse_int(v: &str) -> Option<(&str, &str)> {
    let digits = v.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || (v.starts_with('0') && digits != 1) {
        return None;
    }
    Some((&v[..digits], &v[digits..]))
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'-'
}

fn is_bad_num(v: &str) -> bool {
    v.len() > 1 && v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit())
}

fn is_num(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_digit())
}

/// `-ident(.ident)*`, stopping at `+`; identifiers non-empty, numeric ones without leading zeros.
fn parse_prerelease(v: &str) -> Option<(&str, &str)> {
    let b = v.as_bytes();
    let (mut i, mut start) = (1, 1);
    while i < b.len() && b[i] != b'+' {
        if !is_ident_char(b[i]) && b[i] != b'.' {
            return None;
        }
        if b[i] == b'.' {
            if start == i || is_bad_num(&v[start..i]) {
                return None;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start == i || is_bad_num(&v[start..i]) {
        return None;
    }
    Some((&v[..i], &v[i..]))
}

/// `+ident(.ident)*` to the end; identifiers non-empty (leading zeros allowed).
fn parse_build(v: &str) -> Option<&str> {
    let b = v.as_bytes();
    let (mut i, mut start) = (1, 1);
    while i < b.len() {
        if !is_ident_char(b[i]) && b[i] != b'.' {
            return None;
        }
        if b[i] == b'.' {
            if start == i {
                return None;
            }
            start = i + 1;
        }
        i += 1;
    }
    if start == i {
        return None;
    }
    Some(&v[i..])
}

fn with_v(v: &str) -> String {
    if v.starts_with('v') {
        v.to_string()
    } else {
        format!("v{v}")
    }
}

/// Is `v` a full semantic version (`1.2.3`, `v1.2.3-rc.1+build`), as the registry decides it?
pub fn is_semver(v: &str) -> bool {
    parse(&with_v(v)).is_some_and(|p| !p.short)
}

fn compare_int(x: &str, y: &str) -> Ordering {
    x.len().cmp(&y.len()).then_with(|| x.cmp(y))
}

/// `comparePrerelease`: a release outranks its prereleases; identifiers compare numerically
/// when both are numeric, numeric < alphanumeric, otherwise ASCII order; a shorter list of
/// equal identifiers is lower.
fn compare_prerelease(x: &str, y: &str) -> Ordering {
    if x == y {
        return Ordering::Equal;
    }
    if x.is_empty() {
        return Ordering::Greater;
    }
    if y.is_empty() {
        return Ordering::Less;
    }
    let mut xs = x[1..].split('.');
    let mut ys = y[1..].split('.');
    loop {
        match (xs.next(), ys.next()) {
            (Some(dx), Some(dy)) => {
                if dx == dy {
                    continue;
                }
                let (nx, ny) = (is_num(dx), is_num(dy));
                return match (nx, ny) {
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (true, true) => compare_int(dx, dy),
                    (false, false) => dx.cmp(dy),
                };
            }
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (None, None) => return Ordering::Equal,
        }
    }
}

/// `semver.Compare` on two versions already known to be semver (a `v` is added if absent).
fn compare_semver(a: &str, b: &str) -> Ordering {
    let (a, b) = (with_v(a), with_v(b));
    match (parse(&a), parse(&b)) {
        (Some(pa), Some(pb)) => compare_int(pa.major, pb.major)
            .then_with(|| compare_int(pa.minor, pb.minor))
            .then_with(|| compare_int(pa.patch, pb.patch))
            .then_with(|| compare_prerelease(pa.prerelease, pb.prerelease)),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => Ordering::Equal,
    }
}

/// The official `CompareVersions`: `Greater` means `a` ranks above `b`.
/// `*_published` are publish times in unix microseconds.
pub fn compare(a_version: &str, a_published: i64, b_version: &str, b_published: i64) -> Ordering {
    match (is_semver(a_version), is_semver(b_version)) {
        (true, true) => compare_semver(a_version, b_version),
        (false, false) => a_published.cmp(&b_published),
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
    }
}

/// Should a newly published version take `isLatest` from the current latest? Only when it ranks
/// strictly higher; a tie (e.g. versions differing only in build metadata) keeps the old flag.
pub fn new_version_becomes_latest(
    new_version: &str,
    new_published: i64,
    current_latest: Option<(&str, i64)>,
) -> bool {
    match current_latest {
        None => true,
        Some((v, p)) => compare(new_version, new_published, v, p) == Ordering::Greater,
    }
}

/// After a status change: the index of the version that must hold `isLatest`, given every version
/// of one server as `(version, published_at micros, status)`. The highest non-deleted version wins
/// (a deprecated one can win); if every version is deleted, the highest deleted one keeps it.
/// On ties the earlier candidate wins, so list the current holder first to keep it.
pub fn pick_latest(cands: &[(&str, i64, &str)]) -> Option<usize> {
    let best_of = |filter: &dyn Fn(&str) -> bool| {
        let mut best: Option<usize> = None;
        for (i, (v, p, status)) in cands.iter().enumerate() {
            if !filter(status) {
                continue;
            }
            match best {
                None => best = Some(i),
                Some(b) => {
                    let (bv, bp, _) = cands[b];
                    if compare(v, *p, bv, bp) == Ordering::Greater {
                        best = Some(i);
                    }
                }
            }
        }
        best
    };
    best_of(&|s| s != "deleted").or_else(|| best_of(&|_| true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::{Equal, Greater, Less};

    #[test]
    fn semver_detection() {
        for v in [
            "1.2.3",
            "v1.2.3",
            "0.0.0",
            "1.2.3-alpha",
            "1.2.3-alpha.1",
            "1.2.3+build.5",
            "1.2.3-rc.1+b.01",
            "10.20.30",
            "1.0.0-0A.is.legal",
            "1.2.3--x",
        ] {
            assert!(is_semver(v), "{v}");
        }
        for v in [
            "1.2",
            "1",
            "v1",
            "1.2.3.4",
            "01.2.3",
            "1.02.3",
            "1.2.03",
            "1.2.3-01",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-a..b",
            "1.2.3+a..b",
            "1.2.3-a_b",
            "latest",
            "2021.03.15",
            "vv1.2.3",
            "V1.2.3",
            " 1.2.3",
            "",
        ] {
            assert!(!is_semver(v), "{v}");
        }
        // Build identifiers may have leading zeros; prerelease numeric ones may not.
        assert!(is_semver("1.2.3+001"));
        assert!(!is_semver("1.2.3-001"));
    }

    #[test]
    fn numeric_not_lexicographic() {
        assert_eq!(compare("1.10.0", 0, "1.2.3", 1), Greater);
        assert_eq!(compare("1.2.3", 5, "1.10.0", 0), Less);
        assert_eq!(compare("10.0.0", 0, "9.99.99", 0), Greater);
        assert_eq!(compare("v2.0.0", 0, "1.9.9", 0), Greater);
        assert_eq!(compare("v1.2.3", 0, "1.2.3", 9), Equal);
    }

    #[test]
    fn prerelease_precedence() {
        // A release outranks its prerelease, whatever the publish times.
        assert_eq!(compare("1.2.3-1", 100, "1.2.3", 1), Less);
        assert!(!new_version_becomes_latest(
            "1.2.3-1",
            100,
            Some(("1.2.3", 1))
        ));
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ];
        for w in chain.windows(2) {
            assert_eq!(compare(w[0], 0, w[1], 0), Less, "{} < {}", w[0], w[1]);
            assert_eq!(compare(w[1], 0, w[0], 0), Greater);
        }
        // Numeric identifiers rank below alphanumeric ones.
        assert_eq!(compare("1.0.0-1", 0, "1.0.0-a", 0), Less);
        assert_eq!(compare("1.0.0-2", 0, "1.0.0-10", 0), Less);
        assert_eq!(compare("1.0.0-B", 0, "1.0.0-a", 0), Less);
    }

    #[test]
    fn build_metadata_ties() {
        assert_eq!(compare("1.0.0+a", 1, "1.0.0+b", 2), Equal);
        assert_eq!(compare("1.0.0+zzz", 9, "1.0.0", 1), Equal);
        // A tie on publish keeps the existing latest.
        assert!(!new_version_becomes_latest(
            "1.0.0+b",
            2,
            Some(("1.0.0+a", 1))
        ));
        assert!(new_version_becomes_latest("1.0.1", 2, Some(("1.0.0+a", 1))));
        assert!(new_version_becomes_latest("anything", 2, None));
    }

    #[test]
    fn semver_beats_non_semver_both_ways() {
        // Follows the code, not the docs: a non-semver version never outranks a semver one.
        assert_eq!(compare("2025.01.01", 999, "1.0.0", 1), Less);
        assert_eq!(compare("1.0.0", 1, "snapshot", 999), Greater);
        assert!(!new_version_becomes_latest(
            "nightly",
            999,
            Some(("0.0.1", 1))
        ));
        assert!(new_version_becomes_latest(
            "0.0.1",
            1,
            Some(("nightly", 999))
        ));
    }

    #[test]
    fn non_semver_by_publish_time() {
        assert_eq!(compare("2024.12.01", 200, "2025.01.01", 100), Greater);
        assert_eq!(compare("b", 100, "a", 200), Less);
        assert_eq!(compare("b", 100, "a", 100), Equal);
        assert!(new_version_becomes_latest(
            "rolling",
            300,
            Some(("snapshot", 200))
        ));
        // "1.2" is not semver here, so it is ordered by time.
        assert_eq!(compare("1.2", 1, "1.1", 2), Less);
    }

    #[test]
    fn pick_latest_skips_deleted_and_keeps_deprecated() {
        let c = [
            ("1.0.0", 1, "active"),
            ("2.0.0", 2, "deleted"),
            ("1.5.0", 3, "deprecated"),
        ];
        assert_eq!(pick_latest(&c), Some(2));
        let c = [("1.0.0", 1, "active"), ("2.0.0", 2, "active")];
        assert_eq!(pick_latest(&c), Some(1));
        let c = [
            ("1.0.0", 1, "active"),
            ("1.10.0", 2, "deprecated"),
            ("1.9.0", 3, "active"),
        ];
        assert_eq!(pick_latest(&c), Some(1));
        let c = [("nightly", 5, "active"), ("0.1.0", 1, "active")];
        assert_eq!(pick_latest(&c), Some(1));
    }

    #[test]
    fn pick_latest_when_all_deleted() {
        let c = [
            ("1.0.0", 1, "deleted"),
            ("3.0.0", 2, "deleted"),
            ("2.0.0", 3, "deleted"),
        ];
        assert_eq!(pick_latest(&c), Some(1));
        assert_eq!(pick_latest(&[]), None);
    }

    #[test]
    fn pick_latest_ties_keep_first() {
        let c = [("1.0.0+b", 2, "active"), ("1.0.0+a", 1, "active")];
        assert_eq!(pick_latest(&c), Some(0));
        let c = [("x", 7, "active"), ("y", 7, "active")];
        assert_eq!(pick_latest(&c), Some(0));
    }
}
