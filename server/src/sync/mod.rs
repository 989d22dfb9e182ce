//! Federation: keeping this registry in sync with upstream registries (issue #14). This first part is the
//! upstream walker ([`upstream`]); the store side (ownership, high-water marks, leases) and the scheduler
//! build on it.

pub mod upstream;
