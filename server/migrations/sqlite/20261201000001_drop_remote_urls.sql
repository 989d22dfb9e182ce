-- v1.8.9 of the official registry lets several server names use one remote URL, so the uniqueness rule and
-- the table that backed it are gone.
DROP TABLE IF EXISTS server_remote_urls;
