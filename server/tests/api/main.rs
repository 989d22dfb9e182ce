//! The HTTP API end to end: a real server on loopback (same builder and router as `serve`), real HTTP,
//! on every backend. Status codes, bodies and problem shapes are the official server's. Split by topic; the
//! whole response bodies are snapshots in `bodies.rs`.

#[path = "../common/mod.rs"]
mod common;

mod bodies;
mod connections;
mod hostile;
mod operations;
mod outage;
mod publish;
mod reads;
mod status;

use common::http::{ADMIN_TOKEN, PUBLISHER_TOKEN, TestServer, official};
use common::{Kind, server, with_remote};
use reqwest::{Method, StatusCode};
use rstest::rstest;
use serde_json::{Value, json};

fn locations(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|x| x["location"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
