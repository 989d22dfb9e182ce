#!/usr/bin/env python3
"""Turn the raw wrk outputs of one `bench/run` into the markdown results tables.

    report.py RAWDIR > latest.md

RAWDIR holds (written by bench/run):
  runs.tsv   backend, cache mode (off|redis), scenario, wrk output file, distinct keys the scenario draws
             from, and for the redis mode the read cache's hit, miss and error counts during the scenario
             (deltas of the server's mcp_registry_cache_requests_total); tab-separated, in the order they ran
  loads.tsv  backend, label, servers, rows, seconds of `mcp-registry import`
  meta.tsv   key<TAB>value lines for the header (date, machine, commit, wrk settings)

The ceiling is the `ping` scenario of the same backend's cache-off server process, measured in the same
run (ping touches neither store nor cache, so it is the ceiling of the Redis rows too): the ratio compares
our endpoints with what this machine, this load generator and the HTTP stack can do at all. The ratios
table divides each read scenario's Redis-on req/s by its cache-off req/s, measured seconds apart.
Exits 1 (after printing the tables) when any scenario saw errors, so a broken run never looks fine.
"""

import re
import sys
from pathlib import Path

UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError(f"unparseable latency {text!r}")
    return float(m.group(1)) * UNITS_MS[m.group(2)]


def parse_wrk(text):
    """The numbers we report, plus every kind of error wrk counts."""
    out = {"non2xx": 0, "socket": {}}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    out["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in ([\d.]+\w+)", text)
    out["requests"] = int(m.group(1)) if m else 0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M)
        out[f"p{pct}"] = to_ms(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket"] = {k: int(v) for k, v in zip(("connect", "read", "write", "timeout"), m.groups()) if int(v)}
    return out


def problems(r):
    found = []
    if r["requests"] == 0:
        found.append("no requests completed")
    if r["non2xx"]:
        found.append(f"{r['non2xx']} non-2xx/3xx responses")
    if r["socket"]:
        found.append("socket errors " + ", ".join(f"{k} {v}" for k, v in r["socket"].items()))
    if r["p50"] is None:
        found.append("no latency distribution (was wrk run with --latency?)")
    if r["cache"] is not None and sum(r["cache"]) == 0:
        found.append("the Redis-cache server made no cache lookups (is the cache configured?)")
    return found


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def fmt_rps(v):
    return f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def fmt_keys(k):
    return f"{int(k):,}" if k.isdigit() else k


def fmt_hits(cache):
    if cache is None:
        return "-"
    hit, miss, error = cache
    total = hit + miss + error
    if not total:
        return "none"
    text = f"{100 * hit / total:.0f}%"
    return text + (f" ({error} errors)" if error else "")


def tsv(path):
    if not path.exists():
        return []
    return [line.split("\t") for line in path.read_text().splitlines() if line.strip()]


def main():
    raw = Path(sys.argv[1])
    meta = dict(tsv(raw / "meta.tsv"))
    loads = tsv(raw / "loads.tsv")
    labels = {}
    for backend, label, _servers, rows, _secs in loads:
        labels[backend] = f"{label} ({int(rows):,} rows)"

    runs = []
    for fields in tsv(raw / "runs.tsv"):
        backend, mode, scenario, file, keys = fields[:5]
        counts = [f for f in fields[5:] if f != ""]
        r = parse_wrk((raw / file).read_text())
        r["cache"] = tuple(int(c) for c in counts) if mode == "redis" and counts else None
        if mode == "redis" and r["cache"] is None:
            r["cache"] = (0, 0, 0)
        runs.append((backend, mode, scenario, keys, r))
    results = {(b, m, s): r for b, m, s, _, r in runs}

    print(f"# Benchmark results ({meta.get('date', '?')})\n")
    for key in ("machine", "commit", "load generator", "server", "dataset", "run time"):
        if key in meta:
            print(f"- {key}: {meta[key]}")
    print()
    mongo = next((l for l in loads if l[0] == "mongodb"), None)
    if mongo:
        print(f"**`mongodb` is FerretDB {meta.get('ferretdb', '')}, not MongoDB**: the registry's MongoDB store "
              "against the MongoDB-wire server of the test suite, FerretDB on PostgreSQL, which pushes no sort, "
              "limit or usable index down and filters and sorts in Go. Its dataset is "
              f"{int(mongo[2]):,} servers / {int(mongo[3]):,} rows, not the other backends' size: its rows "
              "compare with each other (cache off vs Redis), not with the other backends.\n")
    if loads:
        print("| backend | servers | import rows | import s | rows/s |")
        print("|---|---:|---:|---:|---:|")
        for backend, label, servers, rows, secs in loads:
            print(f"| {label} | {int(servers):,} | {int(rows):,} | {float(secs):.1f} | "
                  f"{int(rows) / float(secs):,.0f} |")
        print()

    print("| backend | cache | scenario | keys | req/s | p50 ms | p99 ms | % of ceiling | cache hits |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    failures, warnings = [], []
    for backend, mode, scenario, keys, r in runs:
        ceiling = results.get((backend, "off", "ping"), {}).get("rps", 0.0)
        pct = 100 * r["rps"] / ceiling if ceiling else None
        ratio = "-" if pct is None else f"{pct:.1f}%" if pct >= 0.1 or pct == 0 else f"{pct:.2f}%"
        print(f"| {labels.get(backend, backend)} | {mode} | {scenario} | {fmt_keys(keys)} | {fmt_rps(r['rps'])} | "
              f"{fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | {ratio} | {fmt_hits(r['cache'])} |")
        failures += [f"{backend}/{mode}/{scenario}: {p}" for p in problems(r)]
        if r["cache"] and r["cache"][2]:
            warnings.append(f"{backend}/{mode}/{scenario}: {r['cache'][2]} cache lookups failed "
                            "(Redis slow or unreachable; those reads went to the store)")

    pairs = [(b, s, k, r, results[(b, "off", s)]) for b, m, s, k, r in runs
             if m == "redis" and (b, "off", s) in results]
    if pairs:
        print("\nRedis cache on ÷ cache off, same backend and scenario, measured seconds apart:\n")
        print("| backend | scenario | keys | req/s off | req/s Redis | Redis ÷ off | p50 ms off → Redis | cache hits |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for backend, scenario, keys, on, off in pairs:
            factor = f"{on['rps'] / off['rps']:.2f}×" if off["rps"] else "-"
            print(f"| {labels.get(backend, backend)} | {scenario} | {fmt_keys(keys)} | {fmt_rps(off['rps'])} | "
                  f"{fmt_rps(on['rps'])} | **{factor}** | {fmt_ms(off['p50'])} → {fmt_ms(on['p50'])} | "
                  f"{fmt_hits(on['cache'])} |")
    if warnings:
        print("\nWarnings:\n")
        for w in warnings:
            print(f"- {w}")
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
    if failures:
        print("\nbenchmark FAILED: scenarios with errors (raw wrk output in " + str(raw) + "):", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
