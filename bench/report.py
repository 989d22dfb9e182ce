#!/usr/bin/env python3
"""Turn the raw wrk outputs of one `bench/run` into the markdown results table.

    report.py RAWDIR > latest.md

RAWDIR holds (written by bench/run):
  runs.tsv   backend<TAB>scenario<TAB>wrk output file, in the order they ran
  loads.tsv  backend<TAB>rows<TAB>seconds of `mcp-registry import`
  meta.tsv   key<TAB>value lines for the header (date, machine, commit, wrk settings)

The ceiling is the `ping` scenario of the same backend's server process, measured in the same run, so the
ratio compares our endpoints with what this machine, this load generator and the HTTP stack can do at
all. Exits 1 (after printing the table) when any scenario saw errors, so a broken run never looks fine.
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
    return found


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 100 else f"{v:.0f}"


def tsv(path):
    if not path.exists():
        return []
    return [line.split("\t") for line in path.read_text().splitlines() if line.strip()]


def main():
    raw = Path(sys.argv[1])
    meta = dict(tsv(raw / "meta.tsv"))
    runs = [(b, s, raw / f) for b, s, f in tsv(raw / "runs.tsv")]
    results = {(b, s): parse_wrk(f.read_text()) for b, s, f in runs}

    print(f"# Benchmark results ({meta.get('date', '?')})\n")
    for key in ("machine", "commit", "load generator", "server", "dataset"):
        if key in meta:
            print(f"- {key}: {meta[key]}")
    print()
    loads = tsv(raw / "loads.tsv")
    if loads:
        print("| backend | import rows | import s | rows/s |")
        print("|---|---:|---:|---:|")
        for backend, rows, secs in loads:
            print(f"| {backend} | {int(rows):,} | {float(secs):.1f} | {int(rows) / float(secs):,.0f} |")
        print()
    print("| backend | scenario | req/s | p50 ms | p99 ms | % of ceiling |")
    print("|---|---|---:|---:|---:|---:|")
    failures = []
    for backend, scenario, _ in runs:
        r = results[(backend, scenario)]
        ceiling = results.get((backend, "ping"), {}).get("rps", 0.0)
        ratio = f"{100 * r['rps'] / ceiling:.1f}%" if ceiling else "-"
        print(f"| {backend} | {scenario} | {r['rps']:,.0f} | {fmt_ms(r['p50'])} | {fmt_ms(r['p99'])} | {ratio} |")
        failures += [f"{backend}/{scenario}: {p}" for p in problems(r)]
    if failures:
        print("\nbenchmark FAILED: scenarios with errors (raw wrk output in " + str(raw) + "):", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
