//! The locally built service images, used the way the stack chart uses the official ones: the same
//! environment and volume contract (see docs/local-cluster.md), so a chart written for the official images
//! runs on these unchanged.

use super::*;

fn postgres_image() -> String {
    image("E2E_POSTGRES_IMAGE", "local/postgres:15")
}

fn redis_image() -> String {
    image("E2E_REDIS_IMAGE", "local/redis:7")
}

/// Container settings of the restricted profile without the read-only root (client pods write a shell's
/// temporary files).
fn restricted_writable() -> Value {
    json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
}

fn empty_dirs(names: &[&str]) -> Vec<Value> {
    names
        .iter()
        .map(|n| json!({"name": n, "emptyDir": {}}))
        .collect()
}

/// uid 999 under `restricted`, read-only root with emptyDirs for data, socket dir, /tmp and /dev/shm as the
/// stack chart mounts them; PGDATA in a subdirectory; `POSTGRES_PASSWORD_FILE`, `POSTGRES_USER`/`DB`,
/// `POSTGRES_INITDB_ARGS`; a `*.sql`, a sourced and an executed `*.sh` init script; extra server
/// arguments; a password login through the Service by name.
pub async fn postgres_as_999(env: TestEnv) -> anyhow::Result<()> {
    let (client, ns) = (&env.cluster.client, env.ns.as_str());
    let img = postgres_image();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pg"},
                        "stringData": {"password": "s3cret pass"}});
    let init = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "pg-init"},
    "data": {
      "01-schema.sql": "CREATE TABLE smoke (id int);\nINSERT INTO smoke VALUES (42);\n",
      // Sourced (mode 0444): the entrypoint's psql helper array and environment are available.
      "02-sourced.sh": "\"${psql[@]}\" -c \"INSERT INTO smoke VALUES (43)\"\n",
      // Executed (mode 0555, like the chart's initdb ConfigMap): plain psql as POSTGRES_USER.
      "03-executed.sh": "#!/usr/bin/env bash\nset -euo pipefail\npsql -v ON_ERROR_STOP=1 --no-psqlrc --username \"$POSTGRES_USER\" --dbname \"$POSTGRES_DB\" -c \"INSERT INTO smoke VALUES (44)\"\n"
    }});
    let mut volumes = empty_dirs(&["data", "run", "tmp"]);
    volumes.extend([
        json!({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "64Mi"}}),
        json!({"name": "init", "configMap": {"name": "pg-init", "items": [
            {"key": "01-schema.sql", "path": "01-schema.sql", "mode": 0o444},
            {"key": "02-sourced.sh", "path": "02-sourced.sh", "mode": 0o444},
            {"key": "03-executed.sh", "path": "03-executed.sh", "mode": 0o555}]}}),
        json!({"name": "secret", "secret": {"secretName": "pg"}}),
    ]);
    let server = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pg", "labels": {"app": "pg"}},
      "spec": {"securityContext": restricted_pod(999), "volumes": volumes,
        "containers": [{
          "name": "postgres", "image": img, "imagePullPolicy": "Never",
          "args": ["postgres", "-c", "max_connections=50"],
          "env": [
            {"name": "POSTGRES_USER", "value": "app"}, {"name": "POSTGRES_DB", "value": "appdb"},
            {"name": "POSTGRES_PASSWORD_FILE", "value": "/run/secrets/pg/password"},
            {"name": "POSTGRES_INITDB_ARGS", "value": "--data-checksums"},
            {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}],
          "ports": [{"containerPort": 5432}],
          "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "app", "-d", "appdb", "-h", "127.0.0.1"]},
                             "periodSeconds": 2},
          "securityContext": restricted_container(),
          "volumeMounts": [
            {"name": "data", "mountPath": "/var/lib/postgresql/data"},
            {"name": "run", "mountPath": "/var/run/postgresql"},
            {"name": "tmp", "mountPath": "/tmp"}, {"name": "shm", "mountPath": "/dev/shm"},
            {"name": "init", "mountPath": "/docker-entrypoint-initdb.d", "readOnly": true},
            {"name": "secret", "mountPath": "/run/secrets/pg", "readOnly": true}]}]}});
    let query = format!(
        "for i in $(seq 60); do pg_isready -q -h pg.{ns}.svc.cluster.local -U app -d appdb && break; sleep 1; done\n\
         psql -h pg -U app -d appdb -tA -c \"SELECT string_agg(id::text, ',' ORDER BY id) FROM smoke\" \
         -c \"SHOW max_connections\" -c \"SHOW data_checksums\" -c \"SELECT current_user\""
    );
    let client_pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pg-client"},
      "spec": {"restartPolicy": "Never", "securityContext": restricted_pod(999),
        "containers": [{"name": "psql", "image": img, "imagePullPolicy": "Never",
          "env": [{"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "pg", "key": "password"}}}],
          "command": ["bash", "-ec"], "args": [query], "securityContext": restricted_writable()}]}});
    pods::create(
        client,
        ns,
        &[secret, init, server, service("pg", 5432, 5432), client_pod],
    )
    .await?;
    pods::wait_for(client, ns, "pg", Want::Ready, TIMEOUT).await?;
    let got = output_of(&env, "pg-client", "psql").await?;
    anyhow::ensure!(
        got == ["42,43,44", "50", "on", "app"],
        "postgres over the Service answered {got:?}, expected the three init rows, max_connections 50, \
         data checksums on and user app"
    );
    expect_uid(&env, "pg", 999).await
}

/// uid 999 under `restricted` with `--requirepass` and `--appendonly yes` passed through; set and get
/// through the Service by name.
pub async fn redis_as_999(env: TestEnv) -> anyhow::Result<()> {
    let (client, ns) = (&env.cluster.client, env.ns.as_str());
    let img = redis_image();
    let server = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis", "labels": {"app": "redis"}},
      "spec": {"securityContext": restricted_pod(999), "volumes": empty_dirs(&["data", "tmp"]),
        "containers": [{"name": "redis", "image": img, "imagePullPolicy": "Never",
          "args": ["redis-server", "--requirepass", "sekret", "--appendonly", "yes"],
          "readinessProbe": {"exec": {"command": ["redis-cli", "-a", "sekret", "--no-auth-warning", "ping"]},
                             "periodSeconds": 2},
          "securityContext": restricted_container(),
          "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}]}]}});
    let script = format!(
        "r() {{ redis-cli -h redis.{ns}.svc.cluster.local -a sekret --no-auth-warning \"$@\"; }}\n\
         for i in $(seq 60); do [ \"$(r ping 2>/dev/null)\" = PONG ] && break; sleep 1; done\n\
         r set smoke 42 >/dev/null\nr get smoke\nr config get appendonly | tail -n 1"
    );
    let client_pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis-client"},
      "spec": {"restartPolicy": "Never", "securityContext": restricted_pod(999),
        "containers": [{"name": "cli", "image": img, "imagePullPolicy": "Never",
          "command": ["bash", "-ec"], "args": [script], "securityContext": restricted_writable()}]}});
    pods::create(
        client,
        ns,
        &[server, service("redis", 6379, 6379), client_pod],
    )
    .await?;
    pods::wait_for(client, ns, "redis", Want::Ready, TIMEOUT).await?;
    let got = output_of(&env, "redis-client", "cli").await?;
    anyhow::ensure!(
        got == ["42", "yes"],
        "redis over the Service answered {got:?}, expected the value 42 and appendonly yes"
    );
    expect_uid(&env, "redis", 999).await
}

/// Started as root (no securityContext, in a namespace without Pod Security labels), both entrypoints
/// drop to uid 999, and the data directory postgres initialises is owned by 999.
pub async fn started_as_root(env: TestEnv) -> anyhow::Result<()> {
    let (client, ns) = (&env.cluster.client, env.ns.as_str());
    let pg = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pg-root"},
      "spec": {"containers": [{"name": "postgres", "image": postgres_image(), "imagePullPolicy": "Never",
        "env": [{"name": "POSTGRES_PASSWORD", "value": "rootstart"}],
        "readinessProbe": {"exec": {"command": ["pg_isready", "-U", "postgres", "-h", "127.0.0.1"]},
                           "periodSeconds": 2}}]}});
    let redis = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "redis-root"},
      "spec": {"containers": [{"name": "redis", "image": redis_image(), "imagePullPolicy": "Never",
        "readinessProbe": {"exec": {"command": ["redis-cli", "ping"]}, "periodSeconds": 2}}]}});
    pods::create(client, ns, &[pg, redis]).await?;
    for p in ["pg-root", "redis-root"] {
        pods::wait_for(client, ns, p, Want::Ready, TIMEOUT).await?;
        expect_uid(&env, p, 999).await?;
    }
    let owner = pods::exec(
        client,
        ns,
        "pg-root",
        &["stat", "-c", "%u", "/var/lib/postgresql/data/PG_VERSION"],
    )
    .await?;
    anyhow::ensure!(
        owner.trim() == "999",
        "PGDATA initialised by a root-started postgres is owned by uid {}, not 999",
        owner.trim()
    );
    Ok(())
}

/// The registry image under `restricted` without a uid in the pod spec (the image's own non-root user),
/// read-only root, SQLite in an emptyDir at `/data`: it migrates, serves and answers ready.
pub async fn registry_on_sqlite(env: TestEnv) -> anyhow::Result<()> {
    let (client, ns) = (&env.cluster.client, env.ns.as_str());
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "registry", "labels": {"app": "registry"}},
      "spec": {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": empty_dirs(&["data"]),
        "containers": [{"name": "registry", "image": registry_image(), "imagePullPolicy": "Never",
          "args": ["serve", "--backend", "sqlite", "--sqlite-path", "/data/registry.db", "--listen", "0.0.0.0:8080"],
          "readinessProbe": {"httpGet": {"path": "/readyz", "port": 8080}, "periodSeconds": 1},
          "securityContext": restricted_container(),
          "volumeMounts": [{"name": "data", "mountPath": "/data"}]}]}});
    pods::create(client, ns, &[pod]).await?;
    pods::wait_for(client, ns, "registry", Want::Ready, TIMEOUT).await?;
    // The kubelet reports the process's uid where it supports it (KEP-3619); older ones report nothing.
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let status = serde_json::to_value(api.get("registry").await?.status)?;
    let uid = &status["containerStatuses"][0]["user"]["linux"]["uid"];
    anyhow::ensure!(
        uid.is_null() || uid == 65532,
        "the registry image runs as uid {uid}, expected 65532"
    );
    env.progress
        .log(format!("registry ready on SQLite in /data (uid {uid})"));
    Ok(())
}
