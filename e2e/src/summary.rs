//! The closing summary of an e2e run, from its `E2E_REPORT` (one JSON object per line):
//!
//! - `{"step", "passed", "seconds", "check"?}` — a step of `e2e/run` (tools, build, cluster up, …); a step
//!   with `"check": true` is a test of its own (actionlint) and counts in the total;
//! - `{"test", "passed", "seconds"}` — one test of the Rust suites ([`crate::report_outcome`]);
//! - `{"test", "scenario", "seconds", "requests"?, "failed_requests"?, "figures"?}` — a scenario inside a
//!   test; `figures` (the fault drills' measurements, in words) is printed on its own line under the row.
//!
//! The last line is `e2e: N passed, M failed`; a run with nothing that passed is a failure.

use serde_json::Value;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub text: String,
    pub passed: usize,
    pub failed: usize,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.failed == 0 && self.passed > 0
    }
}

fn secs(v: &Value) -> String {
    v["seconds"]
        .as_f64()
        .map_or_else(|| "-".into(), |s| format!("{s:.1}s"))
}

fn count(v: &Value, key: &str) -> String {
    v[key]
        .as_u64()
        .map_or_else(|| "-".into(), |n| n.to_string())
}

fn result(v: &Value) -> &'static str {
    if v["passed"].as_bool() == Some(true) {
        "ok"
    } else {
        "FAILED"
    }
}

/// Render the report. Lines that are not JSON objects are listed as unreadable (and count as failures:
/// a truncated report must not look like a clean run).
pub fn render(report: &str) -> Summary {
    let mut lines: Vec<Value> = Vec::new();
    let mut unreadable = 0usize;
    for l in report.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Value>(l) {
            Ok(v) if v.is_object() => lines.push(v),
            _ => unreadable += 1,
        }
    }
    let steps: Vec<&Value> = lines.iter().filter(|v| v.get("step").is_some()).collect();
    let scenarios: Vec<&Value> = lines
        .iter()
        .filter(|v| v.get("scenario").is_some())
        .collect();
    let tests: Vec<&Value> = lines
        .iter()
        .filter(|v| v.get("test").is_some() && v.get("scenario").is_none())
        .collect();
    let mut out = String::new();
    let mut table = |title: &str, rows: Vec<String>| {
        if !rows.is_empty() {
            out.push('\n');
            out.push_str(title);
            out.push('\n');
            for r in rows {
                out.push_str(&r);
                out.push('\n');
            }
        }
    };
    table(
        &format!("{:<48} {:<7} {:>8}", "step", "result", "time"),
        steps
            .iter()
            .map(|v| {
                let name = v["step"].as_str().unwrap_or_default();
                format!("{name:<48} {:<7} {:>8}", result(v), secs(v))
            })
            .collect(),
    );
    table(
        &format!("{:<44} {:<7} {:>8}", "test", "result", "time"),
        tests
            .iter()
            .map(|v| {
                let name = v["test"].as_str().unwrap_or_default();
                format!("{name:<44} {:<7} {:>8}", result(v), secs(v))
            })
            .collect(),
    );
    table(
        &format!(
            "{:<36} {:>8} {:>9} {:>16}",
            "scenario", "time", "requests", "failed requests"
        ),
        scenarios
            .iter()
            .map(|v| {
                let name = format!(
                    "{}/{}",
                    v["test"].as_str().unwrap_or_default(),
                    v["scenario"].as_str().unwrap_or_default()
                );
                let row = format!(
                    "{name:<36} {:>8} {:>9} {:>16}",
                    secs(v),
                    count(v, "requests"),
                    count(v, "failed_requests")
                );
                match v["figures"].as_str() {
                    Some(f) => format!("{row}\n    {f}"),
                    None => row,
                }
            })
            .collect(),
    );
    let counted = tests.iter().copied().chain(
        steps
            .iter()
            .copied()
            .filter(|v| v["check"].as_bool() == Some(true)),
    );
    let (mut passed, mut failed) = (0, unreadable);
    for v in counted {
        if v["passed"].as_bool() == Some(true) {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    // A step that failed without a failed test to say why (the cluster did not start, the build broke)
    // is one failure: what it would have run did not pass.
    let step_failed = steps
        .iter()
        .any(|v| v["passed"].as_bool() != Some(true) && v["check"].as_bool() != Some(true));
    if step_failed && failed == 0 {
        failed = 1;
    }
    if unreadable > 0 {
        out.push_str(&format!(
            "\n{unreadable} report line(s) are not JSON objects\n"
        ));
    }
    out.push_str(&format!("e2e: {passed} passed, {failed} failed\n"));
    Summary {
        text: out,
        passed,
        failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN: &str = r#"
{"step": "tools (helm, actionlint)", "passed": true, "seconds": 1.2}
{"step": "actionlint .github/workflows", "passed": true, "seconds": 0.4, "check": true}
{"test": "cluster-network", "passed": true, "seconds": 21.0}
{"test": "postgres-stack", "scenario": "upgrade", "seconds": 40.5, "requests": 780, "failed_requests": 0}
{"test": "postgres-stack", "passed": true, "seconds": 120.3}
{"test": "fault-drills", "scenario": "database-pod-deleted", "seconds": 60.0, "requests": 900, "failed_requests": 0, "figures": "writes failed within 2.1s"}
{"test": "fault-drills", "passed": true, "seconds": 200.0}
"#;

    #[test]
    fn counts_tests_and_check_steps() {
        let s = render(RUN);
        assert_eq!((s.passed, s.failed), (4, 0));
        assert!(s.ok());
        assert!(s.text.ends_with("e2e: 4 passed, 0 failed\n"), "{}", s.text);
        assert!(
            s.text.contains("\n    writes failed within 2.1s\n"),
            "figures under their scenario: {}",
            s.text
        );
        assert!(s.text.contains("postgres-stack/upgrade"), "{}", s.text);
        assert!(s.text.contains("780"), "{}", s.text);
    }

    #[test]
    fn a_failed_step_or_test_fails_the_run() {
        let s = render(&format!(
            "{RUN}{}\n",
            r#"{"step": "local cluster up", "passed": false, "seconds": 3.0}"#
        ));
        assert_eq!((s.passed, s.failed), (4, 1));
        assert!(!s.ok());
        // The step that ran a failed test is not a second failure.
        let s = render(concat!(
            r#"{"test": "cluster-helm", "passed": false, "seconds": 9.0}"#,
            "\n",
            r#"{"step": "cluster checks", "passed": false, "seconds": 9.5}"#
        ));
        assert_eq!((s.passed, s.failed), (0, 1));
    }

    #[test]
    fn nothing_passed_is_not_ok_and_garbage_counts_as_failure() {
        assert!(!render("").ok());
        let s = render("{\"test\": \"x\", \"passed\": true}\nnot json\n");
        assert_eq!((s.passed, s.failed), (1, 1));
        assert!(s.text.contains("not JSON"), "{}", s.text);
    }
}
