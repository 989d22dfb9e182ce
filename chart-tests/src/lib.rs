//! The chart-tests crate has no library code: its tests (`tests/`) render every chart of `charts/` with
//! `helm template` and check the manifests. Run them with `cargo test -p chart-tests`; they need Helm
//! (`scripts/install-tools helm`).
