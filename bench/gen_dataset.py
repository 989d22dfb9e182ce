#!/usr/bin/env python3
"""Write the benchmark dataset: a JSON array of valid server.json documents for `mcp-registry import`.

Deterministic on purpose (no randomness, no clock): two runs load identical rows, so results differ only
by the machine, and the wrk scripts (bench/wrk.lua) can compute every name and version from an index
without reading this file. Keep `versions_of` in step with `versions_of` in wrk.lua.

    gen_dataset.py [--servers 10000] [--versions 5] > dataset.json
"""

import argparse
import json
import sys

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
TOPICS = ["weather", "git", "calendar", "search", "files", "tickets", "metrics", "chat", "maps", "docs"]


def name_of(i):
    return f"io.github.bench-{i:04d}/server-{i:04d}"


def versions_of(i, count):
    # A mix of majors and a pre-release that sorts above the others, so "latest" is a semver decision,
    # not simply the last row written.
    major = 1 + i % 3
    base = [f"{major}.0.0", f"{major}.1.0", f"{major}.1.1", f"{major}.2.0", f"{major + 1}.0.0-rc.1"]
    extra = [f"{major}.3.{k}" for k in range(max(0, count - len(base)))]
    return (base + extra)[:count]


def document(i, version):
    topic = TOPICS[i % len(TOPICS)]
    doc = {
        "$schema": SCHEMA,
        "name": name_of(i),
        # <= 100 characters, as the schema requires.
        "description": f"Benchmark server {i:04d}: {topic} tools for load testing (v{version})"[:100],
        "version": version,
        "title": f"Bench {topic} {i:04d}",
        "repository": {"url": f"https://github.com/bench-{i:04d}/server-{i:04d}", "source": "github"},
    }
    # Roughly half carry a package, a quarter a remote, some both: rows of realistic, varied size.
    kind = i % 4
    if kind in (0, 1):
        doc["packages"] = [{
            "registryType": "npm",
            "identifier": f"@bench-{i:04d}/server",
            "version": version,
            "transport": {"type": "stdio"},
            "environmentVariables": [
                {"name": "BENCH_API_KEY", "description": "API key", "isRequired": True, "isSecret": True},
            ],
        }]
    elif kind == 2:
        doc["packages"] = [{
            "registryType": "pypi",
            "identifier": f"bench-server-{i:04d}",
            "version": version,
            "transport": {"type": "stdio"},
        }]
    if kind in (1, 3):
        # Unique per server (the registry refuses a URL that another server name uses); shared by its
        # own versions, which is allowed.
        doc["remotes"] = [{"type": "streamable-http", "url": f"https://bench-{i:04d}.example.com/mcp"}]
    return doc


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--servers", type=int, default=10000)
    p.add_argument("--versions", type=int, default=5)
    a = p.parse_args()
    if not 1 <= a.servers <= 10000:
        sys.exit("--servers must be 1..10000 (names are zero-padded to 4 digits)")
    docs = [document(i, v) for i in range(a.servers) for v in versions_of(i, a.versions)]
    json.dump(docs, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
