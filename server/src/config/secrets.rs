//! Reading secret material from files (mounted Kubernetes Secrets), with errors that name the config key.

/// Read a secret file, trimming one trailing newline (editors and `kubectl create secret --from-file`
/// often leave one). An empty file is an error: an empty password is never what was meant.
pub fn read_secret_file(key: &str, path: &str) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{key}: cannot read secret file {path}: {e}"))?;
    let value = text.strip_suffix('\n').unwrap_or(&text);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() {
        anyhow::bail!("{key}: secret file {path} is empty");
    }
    Ok(value.to_owned())
}
