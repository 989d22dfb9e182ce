//! The environment layer and unknown-key detection. Both are driven by the defaults themselves: the set of
//! valid keys is exactly the set of fields of [`super::Config`], so a new field is documented, settable
//! from the environment and checked for typos without any list to keep in sync.

use super::{ENV_CONFIG_FILE, ENV_PREFIX};
use serde_json::Value;
use std::path::Path;

/// Every leaf key path (`server.listen`, …) with its default value. Lists of objects (`auth.tokens`) are
/// leaves too, but cannot be set from the environment.
fn leaves(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(child, &path, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

/// `storage.postgres.max_connections` → `MCP_REGISTRY_STORAGE_POSTGRES_MAX_CONNECTIONS`.
pub fn env_name(path: &str) -> String {
    format!("{ENV_PREFIX}{}", path.replace('.', "_").to_uppercase())
}

/// Keys whose values are structured lists: set them in the file only.
const FILE_ONLY: &[&str] = &["auth.tokens"];

fn settable_from_env(path: &str, default: &Value) -> bool {
    if FILE_ONLY.contains(&path) {
        return false;
    }
    match default {
        Value::Array(items) => items.iter().all(Value::is_string),
        Value::Object(_) => false,
        _ => true,
    }
}

/// All environment-settable keys with their variable names, for docs and errors.
pub fn env_keys(defaults: &Value) -> Vec<(String, String)> {
    let mut all = Vec::new();
    leaves(defaults, "", &mut all);
    all.into_iter()
        .filter(|(p, d)| settable_from_env(p, d))
        .map(|(p, _)| (env_name(&p), p))
        .collect()
}

fn parse_env_value(var: &str, raw: &str, default: &Value) -> anyhow::Result<Value> {
    Ok(match default {
        Value::Bool(_) => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::Bool(true),
            "false" | "0" | "no" | "off" => Value::Bool(false),
            _ => anyhow::bail!("{var}='{raw}': expected true or false"),
        },
        Value::Number(_) => Value::Number(
            raw.trim()
                .parse::<u64>()
                .map_err(|_| anyhow::anyhow!("{var}='{raw}': expected a whole number"))?
                .into(),
        ),
        Value::Array(_) => Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        _ => Value::String(raw.to_owned()),
    })
}

fn set_path(root: &mut Value, path: &str, v: Value) {
    let mut cur = root;
    for part in path.split('.') {
        cur = &mut cur[part];
    }
    *cur = v;
}

/// Apply `MCP_REGISTRY_*` variables onto `value` (which holds defaults merged with the file).
pub fn apply(value: &mut Value, env_vars: &[(String, String)]) -> anyhow::Result<()> {
    let defaults = serde_json::to_value(super::Config::default())?;
    let keys = env_keys(&defaults);
    let mut unknown = Vec::new();
    for (var, raw) in env_vars {
        if !var.starts_with(ENV_PREFIX) || var == ENV_CONFIG_FILE {
            continue;
        }
        match keys.iter().find(|(name, _)| name == var) {
            Some((_, path)) => {
                let mut default = &defaults;
                for part in path.split('.') {
                    default = &default[part];
                }
                let parsed = parse_env_value(var, raw, default)?;
                set_path(value, path, parsed);
            }
            None => unknown.push(var.clone()),
        }
    }
    if let Some(var) = unknown.first() {
        let hint = nearest(var, keys.iter().map(|(n, _)| n.as_str()));
        anyhow::bail!(
            "unknown environment variable {var}{}; every MCP_REGISTRY_* variable must be a configuration key (see docs/configuration.md)",
            hint.map(|h| format!(" (did you mean {h}?)"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// Reject keys of the file that are not fields of the configuration, naming the full path and the valid
/// keys at that level.
pub fn check_known_keys(
    defaults: &Value,
    file: &Value,
    prefix: &str,
    path: &Path,
) -> anyhow::Result<()> {
    let (Value::Object(known), Value::Object(given)) = (defaults, file) else {
        if prefix.is_empty() && !file.is_object() {
            anyhow::bail!(
                "config file {}: expected a mapping of sections at the top level",
                path.display()
            );
        }
        return Ok(());
    };
    for (k, v) in given {
        let full = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match known.get(k) {
            Some(d) => check_known_keys(d, v, &full, path)?,
            None => {
                let valid: Vec<&str> = known.keys().map(String::as_str).collect();
                let hint = nearest(k, valid.iter().copied())
                    .map(|h| format!(" Did you mean '{h}'?"))
                    .unwrap_or_default();
                anyhow::bail!(
                    "config file {}: unknown key '{full}'.{hint} Valid keys{}: {}",
                    path.display(),
                    if prefix.is_empty() {
                        String::new()
                    } else {
                        format!(" under '{prefix}'")
                    },
                    valid.join(", ")
                );
            }
        }
    }
    Ok(())
}

/// The candidate with the smallest edit distance, if it is close enough to be a plausible typo.
fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (levenshtein(word, c), c))
        .filter(|(d, c)| *d <= 3.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
