//! `e2e-summary REPORT` — prints the summary of an e2e run from its report (see `e2e::summary`) and exits
//! non-zero unless something passed and nothing failed. `e2e/run` calls it last.

use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: e2e-summary REPORT.jsonl");
        return ExitCode::from(2);
    };
    let report = match std::fs::read_to_string(&path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("e2e-summary: cannot read {}: {e}", path.to_string_lossy());
            println!("e2e: 0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };
    let s = e2e::summary::render(&report);
    print!("{}", s.text);
    if s.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
