-- One row per published server version. Timestamps are unix microseconds (UTC).
-- TEXT uses SQLite's BINARY collation: rows sort in byte order, the same as PostgreSQL's COLLATE "C".
CREATE TABLE server_versions (
    name              TEXT    NOT NULL,
    version           TEXT    NOT NULL,
    server_json       TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('active', 'deprecated', 'deleted')),
    status_message    TEXT,
    published_at      INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    status_changed_at INTEGER NOT NULL,
    is_latest         INTEGER NOT NULL DEFAULT 0 CHECK (is_latest IN (0, 1)),
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

-- Exactly one latest row per server, enforced by the database as well as by the planner.
CREATE UNIQUE INDEX server_versions_one_latest ON server_versions (name) WHERE is_latest = 1;
-- `version=latest` pages walk this instead of every version.
CREATE INDEX server_versions_latest_page ON server_versions (name, version) WHERE is_latest = 1;
-- `updated_since` feeds.
CREATE INDEX server_versions_updated_at ON server_versions (updated_at);

-- remotes[].url of every version, for the cross-server uniqueness rule.
CREATE TABLE server_remote_urls (
    url     TEXT NOT NULL,
    name    TEXT NOT NULL,
    version TEXT NOT NULL,
    PRIMARY KEY (url, name, version),
    FOREIGN KEY (name, version) REFERENCES server_versions (name, version) ON DELETE CASCADE
) WITHOUT ROWID;
