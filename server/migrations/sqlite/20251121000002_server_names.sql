-- One row per server name, so a substring search scans short names (10k rows of a few bytes) instead of
-- every version's row, which in this WITHOUT ROWID table carries the whole server.json.
CREATE TABLE server_names (
    name TEXT NOT NULL PRIMARY KEY
) WITHOUT ROWID;

INSERT INTO server_names (name) SELECT DISTINCT name FROM server_versions;
