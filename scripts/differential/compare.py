#!/usr/bin/env python3
"""Send the same requests to the official registry and to ours, in the same order, and report every
difference by class. Run by scripts/differential/run, which starts both; see docs/testing.md.

  compare.py --official URL --ours URL --admin-token T --limited-token T [--real FILE] [--allow FILE]

Both registries start empty. A difference is the status code, the body (JSON compared as data, with the
timestamps of `_meta.io.modelcontextprotocol.registry/official` replaced by a marker once they are checked to be
RFC 3339), the media type, or the Location of a redirect. Differences whose case id and kind match an entry of
the allow-list (allowed.json: each with the reason and where docs/api.md documents it) are reported as
documented; any other fails the run. Standard library only."""

import argparse
import collections
import http.client
import json
import re
import sys
import urllib.parse

import corpus

OFFICIAL_META = "io.modelcontextprotocol.registry/official"
TIME_KEYS = ("publishedAt", "updatedAt", "statusChangedAt")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


class Target:
    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port

    def send(self, method, path, body=None, token=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = {"Accept": "application/json"}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if token is not None:
            h["Authorization"] = token if token.startswith(("Bearer", "bearer", "Basic")) or token == "" \
                else f"Bearer {token}"
        h.update(headers or {})
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        hdrs = {k.lower(): v for k, v in r.getheaders()}
        conn.close()
        return r.status, hdrs, data


def normalize(value):
    """Timestamps of the official metadata become a marker (each checked to be RFC 3339 first)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == OFFICIAL_META and isinstance(v, dict):
                v = dict(v)
                for t in TIME_KEYS:
                    if t in v:
                        v[t] = "<time>" if isinstance(v[t], str) and RFC3339.match(v[t]) else f"<bad time {v[t]!r}>"
            out[k] = normalize(v)
        return out
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def media_type(h):
    return h.get("content-type", "").split(";")[0].strip()


def decode(h, data):
    if media_type(h).endswith("json"):
        try:
            return normalize(json.loads(data))
        except ValueError:
            pass
    return data.decode("utf-8", "replace")


def differences(a, b, path="$"):
    """Every place two JSON values differ, as (path, official value, our value); a list of another length
    is one difference (its length), a missing key is one (the other side is "<absent>")."""
    if type(a) is not type(b):
        return [(path, a, b)]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append((f"{path}.{k}", a.get(k, "<absent>"), b.get(k, "<absent>")))
            else:
                out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [(f"{path}.length", len(a), len(b))]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += differences(x, y, f"{path}[{i}]")
        return out
    return [] if a == b else [(path, a, b)]


class Run:
    def __init__(self, args):
        self.official, self.ours = Target(args.official), Target(args.ours)
        self.admin, self.limited = args.admin_token, args.limited_token
        self.allow = json.load(open(args.allow)) if args.allow else []
        self.cases = 0
        self.diffs = []        # (case, kind, detail)
        self.documented = []   # (case, kind, why)
        self.last = {}

    def allowed(self, case, kind, where, official):
        """The allow-list entry documenting this difference: its `case` matches the case id, `kinds` holds
        the kind, and, when given, `at` matches where a body first differs and `official` the official
        value there (so an entry covers exactly the documented difference, not whatever else differs)."""
        for a in self.allow:
            if not re.fullmatch(a["case"], case) or kind not in a.get("kinds", ["status", "body", "media-type", "location"]):
                continue
            if "at" in a and not (where is not None and re.fullmatch(a["at"], where)):
                continue
            if "official" in a and not re.search(a["official"], json.dumps(official)):
                continue
            return a
        return None

    def check(self, case, method, path, body=None, token="admin", headers=None):
        """One request to both; records the differences; returns our (status, decoded body)."""
        tok = {"admin": self.admin, "limited": self.limited, None: None}.get(token, token)
        self.cases += 1
        o = self.official.send(method, path, body, tok, headers)
        m = self.ours.send(method, path, body, tok, headers)
        (os_, oh, ob), (ms, mh, mb) = o, m
        od, md = decode(oh, ob), decode(mh, mb)
        found = []  # (kind, detail, where a body differs, the official value there)
        if os_ != ms:
            show = lambda d: json.dumps(d)[:400] if isinstance(d, (dict, list)) else str(d)[:400]
            found.append(("status", f"official {os_} {show(od)}, ours {ms} {show(md)}", None, os_))
        if media_type(oh) != media_type(mh) and ob and mb:
            found.append(("media-type", f"official {media_type(oh)!r}, ours {media_type(mh)!r}", None, media_type(oh)))
        if os_ in (301, 302, 307, 308) and oh.get("location") != mh.get("location"):
            found.append(("location", f"official {oh.get('location')!r}, ours {mh.get('location')!r}", None, oh.get("location")))
        if od != md:
            if isinstance(od, (dict, list)) and isinstance(md, (dict, list)):
                for where, a, b in differences(od, md):
                    found.append(("body", f"at {where}: official {json.dumps(a)[:300]}, ours {json.dumps(b)[:300]}", where, a))
            else:
                found.append(("body", f"official {str(od)[:300]!r}, ours {str(md)[:300]!r}", "$", od))
        for kind, detail, where, official in found:
            a = self.allowed(case, kind, where, official)
            if a:
                self.documented.append((case, kind, a["why"]))
            else:
                self.diffs.append((case, kind, f"{method} {path}: {detail}"))
        self.last[case] = (os_, od)
        return ms, md

    # ---- the sequence ---------------------------------------------------------------------------------

    def publishes(self, entries):
        for slug, doc in entries:
            self.check(f"publish/{slug}", "POST", "/v0.1/publish", doc)

    def listings(self):
        q = "/v0.1/servers"
        for case, query in [
            ("default", ""), ("limit-1", "limit=1"), ("limit-100", "limit=100"), ("limit-0", "limit=0"),
            ("limit-101", "limit=101"), ("limit-neg", "limit=-1"), ("limit-text", "limit=abc"),
            ("limit-float", "limit=1.5"), ("limit-empty", "limit="), ("limit-space", "limit=%20"),
            ("latest", "version=latest"), ("version-exact", "version=1.1.0"), ("version-none", "version=9.9.9"),
            ("version-empty", "version="), ("search", "search=multi"), ("search-case", "search=MULTI"),
            ("search-2", "search=ab"), ("search-1", "search=_"), ("search-percent", "search=%25"),
            ("search-spaces", "search=%20ab%20"), ("search-3-spaced", "search=%20abc%20"),
            ("search-empty", "search="), ("search-like", "search=em_ty"), ("search-unicode", "search=%C3%A9t%C3%A9"),
            ("search-latest", "search=empty&version=latest"), ("updated-past", "updated_since=2000-01-01T00:00:00Z"),
            ("updated-future", "updated_since=2999-01-01T00:00:00Z"), ("updated-bad", "updated_since=yesterday"),
            ("updated-empty", "updated_since="), ("updated-offset", "updated_since=2000-01-01T00:00:00%2B02:00"),
            ("updated-deleted-false", "updated_since=2000-01-01T00:00:00Z&include_deleted=false"),
            ("deleted-true", "include_deleted=true"), ("deleted-false", "include_deleted=false"),
            ("deleted-empty", "include_deleted="), ("deleted-yes", "include_deleted=yes"),
            ("deleted-1", "include_deleted=1"), ("cursor-bogus", "cursor=zzz"), ("cursor-empty", "cursor="),
            ("cursor-name-only", f"cursor={corpus.NS}%2Fmulti"), ("unknown-param", "foo=bar"),
            ("nul-query", "search=ab%00c"), ("repeated", "limit=1&limit=2"),
        ]:
            self.check(f"list/{case}", "GET", f"{q}?{query}" if query else q)
        # Follow the cursor through everything, page by page, with and without filters.
        for case, query in [("all", "limit=7"), ("latest", "limit=3&version=latest"),
                            ("search", "limit=2&search=empty"), ("deleted", "limit=9&include_deleted=true")]:
            cursor, page = None, 0
            while page < 100:
                path = f"{q}?{query}" + (f"&cursor={urllib.parse.quote(cursor, safe='')}" if cursor else "")
                status, body = self.check(f"page/{case}/{page}", "GET", path)
                cursor = body.get("metadata", {}).get("nextCursor") if isinstance(body, dict) else None
                if status != 200 or not cursor:
                    break
                page += 1
        for prefix in ["/v0", "/v0.1"]:
            self.check(f"list/prefix{prefix}", "GET", f"{prefix}/servers?limit=5")

    def reads(self, names):
        for name in names:
            enc = urllib.parse.quote(name, safe="")
            self.check(f"versions/{name}", "GET", f"/v0.1/servers/{enc}/versions")
            self.check(f"latest/{name}", "GET", f"/v0.1/servers/{enc}/versions/latest")
        multi = urllib.parse.quote(f"{corpus.NS}/multi", safe="")
        for case, path in [
            ("exact", f"/v0.1/servers/{multi}/versions/1.1.0"), ("build", f"/v0.1/servers/{multi}/versions/1.2.0%2Bbuild.5"),
            ("build-plus", f"/v0.1/servers/{multi}/versions/1.2.0+build.5"), ("missing-version", f"/v0.1/servers/{multi}/versions/7.7.7"),
            ("missing-server", "/v0.1/servers/com.example.diff%2Fnope/versions"),
            ("missing-server-latest", "/v0.1/servers/com.example.diff%2Fnope/versions/latest"),
            ("raw-slash", f"/v0.1/servers/{corpus.NS}/multi/versions"), ("double-encoded", "/v0.1/servers/com.example.diff%252Fmulti/versions"),
            ("bad-escape", "/v0.1/servers/bad%ZZname/versions"), ("trailing-slash", f"/v0.1/servers/{multi}/versions/"),
            ("nul-path", "/v0.1/servers/a%00b/versions"), ("include-deleted", f"/v0.1/servers/{multi}/versions?include_deleted=true"),
            ("unknown-path", "/v0.1/nothing"), ("root-servers", "/servers"), ("v1", "/v1/servers"),
            ("health", "/v0.1/health"), ("ping", "/v0.1/ping"), ("health-v0", "/v0/health"),
        ]:
            self.check(f"read/{case}", "GET", path)
        self.check("method/post-servers", "POST", "/v0.1/servers", {})
        self.check("method/delete-servers", "DELETE", "/v0.1/servers")

    def auth(self):
        doc = corpus.base("auth-check", version="9.0.0")
        for case, tok in [("missing", None), ("empty", ""), ("basic", "Basic abc"), ("bearer-only", "Bearer"),
                          ("unknown", "Bearer not-a-token"), ("lowercase", f"bearer {self.admin}")]:
            self.check(f"auth/{case}", "POST", "/v0.1/publish", doc, token=tok)
        other = dict(doc, name="org.other.diff/auth-check")
        self.check("auth/outside-namespace", "POST", "/v0.1/publish", other, token="limited")
        self.check("auth/inside-namespace", "POST", "/v0.1/publish", corpus.base("auth-limited"), token="limited")
        self.check("auth/not-json", "POST", "/v0.1/publish", "{not json", token="admin")
        self.check("auth/empty-body", "POST", "/v0.1/publish", "", token="admin")
        self.check("auth/array-body", "POST", "/v0.1/publish", [1], token="admin")

    def statuses(self):
        multi = urllib.parse.quote(f"{corpus.NS}/multi", safe="")
        one = f"/v0.1/servers/{multi}/versions/1.1.0/status"
        for case, body, tok in [
            ("deprecate", {"status": "deprecated", "statusMessage": "use 2"}, "admin"),
            ("same-again", {"status": "deprecated", "statusMessage": "use 2"}, "admin"),
            ("message-only", {"status": "deprecated", "statusMessage": "use 3"}, "admin"),
            ("clear-message", {"status": "deprecated"}, "admin"),
            ("active-with-message", {"status": "active", "statusMessage": "x"}, "admin"),
            ("active", {"status": "active"}, "admin"),
            ("unknown-status", {"status": "archived"}, "admin"), ("missing-status", {}, "admin"),
            ("number-message", {"status": "deleted", "statusMessage": 5}, "admin"),
            ("long-message", {"status": "deprecated", "statusMessage": "m" * 501}, "admin"),
            ("unknown-field", {"status": "deprecated", "extra": 1}, "admin"),
            ("no-token", {"status": "deleted"}, None), ("bad-token", {"status": "deleted"}, "Bearer nope"),
            ("delete", {"status": "deleted", "statusMessage": "gone"}, "admin"),
            ("restore", {"status": "active"}, "admin"),
        ]:
            self.check(f"status/{case}", "PATCH", one, body, token=tok)
        self.check("status/missing-version", "PATCH", f"/v0.1/servers/{multi}/versions/7.7.7/status",
                   {"status": "deleted"})
        self.check("status/outside-namespace", "PATCH", "/v0.1/servers/org.other.diff%2Fx/versions/1.0.0/status",
                   {"status": "deleted"}, token="limited")
        bulk = f"/v0.1/servers/{multi}/status"
        for case, body in [("deprecate", {"status": "deprecated", "statusMessage": "all old"}),
                           ("same-again", {"status": "deprecated", "statusMessage": "all old"}),
                           ("active-with-message", {"status": "active", "statusMessage": "x"}),
                           ("delete", {"status": "deleted"}), ("restore", {"status": "active"})]:
            self.check(f"bulk/{case}", "PATCH", bulk, body)
        self.check("bulk/missing-server", "PATCH", "/v0.1/servers/com.example.diff%2Fnope/status", {"status": "deleted"})
        # Deleting the latest version moves the flag; reads without include_deleted hide it.
        self.check("status/delete-latest", "PATCH", f"/v0.1/servers/{multi}/versions/1.1.0/status", {"status": "deleted"})
        self.check("read/after-delete-latest", "GET", f"/v0.1/servers/{multi}/versions/latest")
        self.check("read/after-delete-versions", "GET", f"/v0.1/servers/{multi}/versions")
        self.check("read/after-delete-deleted", "GET", f"/v0.1/servers/{multi}/versions?include_deleted=true")
        self.check("list/after-delete", "GET", f"/v0.1/servers?search=multi&include_deleted=true")

    def edits(self):
        full = urllib.parse.quote(f"{corpus.NS}/full", safe="")
        path = f"/v0.1/servers/{full}/versions/1.0.0"
        edited = dict(corpus.FULL, description="Edited description")
        self.check("edit/ok", "PUT", path, edited)
        self.check("edit/read-back", "GET", path)
        self.check("edit/rename", "PUT", path, dict(edited, name=f"{corpus.NS}/other"))
        self.check("edit/version-mismatch", "PUT", path, dict(edited, version="2.0.0"))
        self.check("edit/missing", "PUT", f"/v0.1/servers/{full}/versions/9.9.9", dict(edited, version="9.9.9"))
        self.check("edit/limited-token", "PUT", path, edited, token="limited")
        self.check("edit/unknown-field", "PUT", path, dict(edited, foo=1))

    def validates(self, entries):
        for slug, doc in entries:
            self.check(f"validate/{slug}", "POST", "/v0.1/validate", doc, token=None)

    def openapi(self):
        """The fields clients read to identify an official-API registry (ToolHive checks these)."""
        for path in ["/openapi.yaml", "/openapi.json"]:
            self.cases += 1
            for who, t in [("official", self.official), ("ours", self.ours)]:
                s, h, data = t.send("GET", path)
                text = data.decode("utf-8", "replace")
                if s != 200:
                    self.diffs.append((f"openapi{path}", "status", f"{who} answered {s}"))
                    continue
                info = openapi_info(path, text)
                if info.get("version") != "1.0.0":
                    self.diffs.append((f"openapi{path}", "body", f"{who}: info.version is {info.get('version')!r}, not 1.0.0"))
                if "github.com/modelcontextprotocol/registry" not in info.get("description", ""):
                    self.diffs.append((f"openapi{path}", "body", f"{who}: no official repository URL in info.description"))


def openapi_info(path, text):
    """`info.version` and `info.description` of an OpenAPI document, JSON or YAML (a block scalar or a
    quoted string: enough for these two keys without a YAML library)."""
    if path.endswith(".json"):
        return json.loads(text).get("info", {})
    block = re.search(r"^info:\n((?:[ \t]+.*\n|\n)*)", text, re.M)
    info = {}
    if block:
        body = block.group(1)
        v = re.search(r"^  version:\s*[\"']?([^\"'\n]+)", body, re.M)
        if v:
            info["version"] = v.group(1).strip()
        d = re.search(r"^  description:[ \t]*(.*(?:\n(?:    .*|[ \t]*))*)", body, re.M)
        if d:
            info["description"] = d.group(1)
    return info


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official", required=True)
    p.add_argument("--ours", required=True)
    p.add_argument("--admin-token", required=True)
    p.add_argument("--limited-token", required=True)
    p.add_argument("--real", action="append", default=[], help="a JSON array of real server.json entries")
    p.add_argument("--allow", help="allow-list of documented differences (allowed.json)")
    p.add_argument("--verbose", action="store_true", help="print every documented difference too")
    args = p.parse_args()
    run = Run(args)
    entries = corpus.entries()
    for f in args.real:
        entries += corpus.real_entries(json.load(open(f)))
    run.publishes(entries)
    names = sorted({d["name"] for _, d in entries if isinstance(d.get("name"), str)})
    run.listings()
    run.reads(names)
    run.auth()
    run.statuses()
    run.edits()
    run.validates(entries[:80])
    run.openapi()

    by_class = collections.Counter((c.split("/")[0], k) for c, k, _ in run.diffs)
    documented = collections.Counter((c.split("/")[0], k) for c, k, _ in run.documented)
    print(f"requests compared: {run.cases} (each sent to both registries)")
    print(f"entries published: {len(entries)} ({sum(1 for c, (s, _) in run.last.items() if c.startswith('publish/') and s == 200)} accepted by the official registry)")
    print(f"documented differences: {len(run.documented)}")
    for (cls, kind), n in sorted(documented.items()):
        print(f"  {cls:<10} {kind:<11} {n}")
    if args.verbose:
        for c, k, why in run.documented:
            print(f"    {c} [{k}]: {why}")
    print(f"undocumented differences: {len(run.diffs)}")
    for (cls, kind), n in sorted(by_class.items()):
        print(f"  {cls:<10} {kind:<11} {n}")
    for c, k, detail in run.diffs:
        print(f"DIFF {c} [{k}] {detail}")
    sys.exit(1 if run.diffs else 0)


if __name__ == "__main__":
    main()
