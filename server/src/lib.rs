//! mcp-registry: a self-hosted MCP server registry, compatible with the official MCP Registry API v0.1.
//!
//! Layout: [`config`] → [`app`] (builder) → [`api`] (HTTP) over a [`store::Store`] trait object;
//! [`validation`] and [`versioning`] hold the official server's rules as pure functions.

pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod config;
pub mod metrics;
pub mod model;
pub mod ratelimit;
pub mod redis_handle;
pub mod serve;
pub mod store;
pub mod sync;
pub mod validation;
pub mod versioning;
