-- Federation (sync): the source that owns a version (NULL: published here) and the upstream's own
-- updatedAt of it (its provenance, served under _meta); one row per configured source with its lease
-- (exactly one replica syncs a source at a time) and its persisted state (high-water mark, last run).
ALTER TABLE server_versions ADD COLUMN source TEXT COLLATE "C";
ALTER TABLE server_versions ADD COLUMN source_updated_at TIMESTAMPTZ;
CREATE INDEX server_versions_source ON server_versions (source, name, version) WHERE source IS NOT NULL;

CREATE TABLE sync_sources (
    name          TEXT COLLATE "C" PRIMARY KEY,
    lease_holder  TEXT,
    lease_expires TIMESTAMPTZ,
    state         TEXT NOT NULL DEFAULT '{}'
);
