#!/usr/bin/env bash
# Bootstrap of the mcp-registry roles (docker-entrypoint-initdb.d: runs once, on an empty data directory).
#   MCP_REGISTRY_MIGRATION_USER  owns the database and its public schema: `mcp-registry migrate` runs DDL as it.
#   MCP_REGISTRY_APP_USER        may connect and read/write every table the owner creates (DML only).
# With no migration user, the application user owns the database. Only bash builtins and psql are used, and
# everything runs in a subshell, so the script behaves the same whether the entrypoint executes or sources it.
(
  set -euo pipefail
  secrets=/etc/postgresql/secrets
  app_user=$MCP_REGISTRY_APP_USER
  owner=${MCP_REGISTRY_MIGRATION_USER:-}
  app_password=$(<"$secrets/password")
  run_psql() {
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" "$@"
  }

  if [ -z "$owner" ] || [ "$owner" = "$app_user" ]; then
    run_psql --set=app="$app_user" --set=app_password="$app_password" --set=db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO :"app";
ALTER SCHEMA public OWNER TO :"app";
SQL
  else
    owner_password=$(<"$secrets/migration-password")
    run_psql --set=app="$app_user" --set=app_password="$app_password" \
      --set=owner="$owner" --set=owner_password="$owner_password" --set=db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"app" LOGIN PASSWORD :'app_password';
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"app";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
  GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app";
SQL
  fi
)
