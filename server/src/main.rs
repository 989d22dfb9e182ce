//! Thin entry point: parse the command line and hand over to [`mcp_registry::cli`].

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // One TLS provider for every client in the process (reqwest and sqlx use rustls with ring).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = mcp_registry::cli::Cli::parse();
    match mcp_registry::cli::run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
