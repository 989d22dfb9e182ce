-- One row per published server version.
-- COLLATE "C": rows sort in byte order whatever the database's locale (the same order as SQLite).
-- server_json is JSON (not JSONB): the stored document's key order is served back unchanged.
CREATE TABLE server_versions (
    name              TEXT COLLATE "C" NOT NULL,
    version           TEXT COLLATE "C" NOT NULL,
    server_json       JSON        NOT NULL,
    status            TEXT        NOT NULL CHECK (status IN ('active', 'deprecated', 'deleted')),
    status_message    TEXT,
    published_at      TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    status_changed_at TIMESTAMPTZ NOT NULL,
    is_latest         BOOLEAN     NOT NULL DEFAULT false,
    PRIMARY KEY (name, version)
);

-- Exactly one latest row per server, enforced by the database as well as by the planner.
CREATE UNIQUE INDEX server_versions_one_latest ON server_versions (name) WHERE is_latest;
-- `version=latest` pages walk this instead of every version.
CREATE INDEX server_versions_latest_page ON server_versions (name, version) WHERE is_latest;
-- `updated_since` feeds.
CREATE INDEX server_versions_updated_at ON server_versions (updated_at);

-- remotes[].url of every version, for the cross-server uniqueness rule.
CREATE TABLE server_remote_urls (
    url     TEXT NOT NULL,
    name    TEXT COLLATE "C" NOT NULL,
    version TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (url, name, version),
    FOREIGN KEY (name, version) REFERENCES server_versions (name, version) ON DELETE CASCADE
);

-- Substring search on names: a trigram index when pg_trgm can be created (it is a trusted extension,
-- but managed services may still refuse it). Without it search falls back to a scan, still correct.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXECUTE 'CREATE INDEX server_versions_name_trgm ON server_versions USING gin (lower(name) gin_trgm_ops)';
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm unavailable (%): search will scan', SQLERRM;
END
$$;
