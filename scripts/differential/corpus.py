"""The differential test's corpus: server.json entries written here, one feature or one edge per entry, so a
difference points at the field that causes it. Names are unique per entry; every entry is sent to both
registries in the same order. Python standard library only."""

import copy

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
NS = "com.example.diff"


def base(slug, version="1.0.0", **extra):
    doc = {"$schema": SCHEMA, "name": f"{NS}/{slug}", "description": f"Differential entry {slug}",
           "version": version}
    doc.update(extra)
    return doc


def npm(**extra):
    p = {"registryType": "npm", "identifier": "@example/diff-server", "version": "1.0.0",
         "transport": {"type": "stdio"}}
    p.update(extra)
    return p


def with_path(doc, path, value):
    """A copy of doc with value set at path (a list of keys and indexes); the containers must exist."""
    doc = copy.deepcopy(doc)
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return doc


# A full entry: every optional field of the schema set once, so the variants below can empty or extend one.
FULL = base(
    "full",
    title="Full entry",
    websiteUrl="https://diff.example.com/docs",
    repository={"url": "https://github.com/example/diff", "source": "github", "subfolder": "servers/diff",
                "id": "12345"},
    icons=[{"src": "https://diff.example.com/icon.png", "mimeType": "image/png", "sizes": ["32x32"],
            "theme": "light"}],
    packages=[npm(
        runtimeHint="npx", registryBaseUrl="https://registry.npmjs.org",
        runtimeArguments=[{"type": "named", "name": "--yes", "description": "no prompt"}],
        packageArguments=[
            {"type": "positional", "value": "serve", "description": "subcommand"},
            {"type": "positional", "valueHint": "directory", "isRepeated": True},
            {"type": "named", "name": "--port", "value": "{port}", "default": "8080", "format": "number",
             "isRequired": True, "variables": {"port": {"description": "Port", "default": "8080"}}},
            {"type": "named", "name": "--mode", "choices": ["fast", "safe"], "default": "safe"},
        ],
        environmentVariables=[
            {"name": "API_KEY", "description": "Key", "isRequired": True, "isSecret": True},
            {"name": "LOG_LEVEL", "default": "info", "choices": ["info", "debug"]},
        ],
    )],
    remotes=[{"type": "streamable-http", "url": "https://diff.example.com/mcp",
              "headers": [{"name": "X-Api-Key", "description": "Key", "isRequired": True, "isSecret": True}]}],
    _meta={"io.modelcontextprotocol.registry/publisher-provided": {"tool": "differential", "n": 1.0,
                                                                  "nested": {"k": [1, 2, {"z": None}]}}},
)


def entries():
    """(id, document) pairs, valid and invalid, in publish order."""
    out = []

    def add(slug, doc):
        out.append((slug, doc))

    add("minimal", base("minimal"))
    add("full", FULL)
    # One optional string emptied at a time: which of them the official keeps as "" and which it drops.
    empties = {
        "title": ["title"], "website-url": ["websiteUrl"],
        "repo-url": ["repository", "url"], "repo-source": ["repository", "source"],
        "repo-subfolder": ["repository", "subfolder"], "repo-id": ["repository", "id"],
        "icon-mime": ["icons", 0, "mimeType"], "icon-theme": ["icons", 0, "theme"],
        "runtime-hint": ["packages", 0, "runtimeHint"], "registry-base-url": ["packages", 0, "registryBaseUrl"],
        "pkg-version": ["packages", 0, "version"], "pkg-identifier": ["packages", 0, "identifier"],
        "arg-value": ["packages", 0, "packageArguments", 0, "value"],
        "arg-description": ["packages", 0, "packageArguments", 0, "description"],
        "arg-value-hint": ["packages", 0, "packageArguments", 1, "valueHint"],
        "arg-default": ["packages", 0, "packageArguments", 2, "default"],
        "arg-format": ["packages", 0, "packageArguments", 2, "format"],
        "arg-name": ["packages", 0, "packageArguments", 2, "name"],
        "var-default": ["packages", 0, "packageArguments", 2, "variables", "port", "default"],
        "env-default": ["packages", 0, "environmentVariables", 1, "default"],
        "env-description": ["packages", 0, "environmentVariables", 0, "description"],
        "env-value": ["packages", 0, "environmentVariables", 0, "value"],
        "header-description": ["remotes", 0, "headers", 0, "description"],
        "header-value": ["remotes", 0, "headers", 0, "value"],
    }
    for slug, path in empties.items():
        doc = with_path(FULL, path, "")
        doc["name"] = f"{NS}/empty-{slug}"
        add(f"empty-{slug}", doc)
    # Unknown properties at every level: stored or refused, never silently cut.
    unknown = {
        "top": [], "repository": ["repository"], "icon": ["icons", 0], "package": ["packages", 0],
        "transport": ["packages", 0, "transport"], "argument": ["packages", 0, "packageArguments", 0],
        "env": ["packages", 0, "environmentVariables", 0], "remote": ["remotes", 0],
        "header": ["remotes", 0, "headers", 0], "meta": ["_meta"],
    }
    for slug, path in unknown.items():
        doc = with_path(FULL, path + ["unknownField"], 1)
        doc["name"] = f"{NS}/unknown-{slug}"
        add(f"unknown-{slug}", doc)
    add("unknown-two", dict(base("unknown-two"), foo=1, bar={"x": 1}))
    add("publisher-meta-free-form", base("publisher-meta-free-form", _meta={
        "io.modelcontextprotocol.registry/publisher-provided": {"anything": {"goes": ["here", 1.5, True]}}}))
    # Arguments: the positional rule (value or valueHint) and named arguments.
    add("positional-neither", base("positional-neither", packages=[npm(packageArguments=[{"type": "positional"}])]))
    add("positional-hint", base("positional-hint", packages=[npm(packageArguments=[
        {"type": "positional", "valueHint": "file"}])]))
    add("named-no-name", base("named-no-name", packages=[npm(packageArguments=[{"type": "named", "value": "x"}])]))
    add("argument-bad-type", base("argument-bad-type", packages=[npm(packageArguments=[
        {"type": "flag", "value": "x"}])]))
    # Package types and transports.
    add("pypi", base("pypi", packages=[{"registryType": "pypi", "identifier": "diff-server", "version": "0.1.0",
                                        "runtimeHint": "uvx", "transport": {"type": "stdio"}}]))
    add("oci", base("oci", packages=[{"registryType": "oci", "identifier": "docker.io/example/diff:1.0.0",
                                      "transport": {"type": "stdio"}}]))
    add("oci-with-version", base("oci-with-version", packages=[{
        "registryType": "oci", "identifier": "docker.io/example/diff", "version": "1.0.0",
        "transport": {"type": "stdio"}}]))
    add("nuget", base("nuget", packages=[{"registryType": "nuget", "identifier": "Example.Diff",
                                          "version": "1.0.0", "transport": {"type": "stdio"}}]))
    add("mcpb", base("mcpb", packages=[{
        "registryType": "mcpb", "identifier": "https://github.com/example/diff/releases/download/v1/diff.mcpb",
        "version": "1.0.0", "fileSha256": "a" * 64, "transport": {"type": "stdio"}}]))
    add("mcpb-no-sha", base("mcpb-no-sha", packages=[{
        "registryType": "mcpb", "identifier": "https://github.com/example/diff/releases/download/v1/diff.mcpb",
        "version": "1.0.0", "transport": {"type": "stdio"}}]))
    add("transport-http", base("transport-http", packages=[npm(transport={
        "type": "streamable-http", "url": "http://localhost:{port}/mcp",
        "headers": [{"name": "Authorization", "value": "Bearer {token}"}]},
        packageArguments=[{"type": "named", "name": "--port", "valueHint": "port"}])]))
    add("transport-sse-no-url", base("transport-sse-no-url", packages=[npm(transport={"type": "sse"})]))
    add("transport-unknown", base("transport-unknown", packages=[npm(transport={"type": "websocket"})]))
    add("package-version-latest", base("package-version-latest", packages=[npm(version="latest")]))
    add("package-version-range", base("package-version-range", packages=[npm(version="^1.0.0")]))
    # Remotes: URL rules, and the same URL under two names (allowed officially).
    add("remote-sse", base("remote-sse", remotes=[{"type": "sse", "url": "https://diff.example.com/sse"}]))
    add("remote-shared-a", base("remote-shared-a", remotes=[{"type": "streamable-http",
                                                             "url": "https://shared.example.com/mcp"}]))
    add("remote-shared-b", base("remote-shared-b", remotes=[{"type": "streamable-http",
                                                             "url": "https://shared.example.com/mcp"}]))
    add("remote-localhost", base("remote-localhost", remotes=[{"type": "streamable-http",
                                                               "url": "https://localhost/mcp"}]))
    add("remote-http", base("remote-http", remotes=[{"type": "streamable-http", "url": "http://diff.example.com/mcp"}]))
    add("remote-template", base("remote-template", remotes=[{
        "type": "streamable-http", "url": "https://{tenant}.example.com/mcp",
        "variables": {"tenant": {"description": "Tenant", "isRequired": True}}}]))
    add("remote-stdio", base("remote-stdio", remotes=[{"type": "stdio", "url": "https://diff.example.com/mcp"}]))
    # Top-level field rules.
    add("name-no-slash", base("x", name="no-slash"))
    add("name-two-slashes", base("x", name=f"{NS}/a/b"))
    add("name-too-long", base("x", name=f"{NS}/" + "n" * 200))
    add("description-too-long", base("description-too-long", description="d" * 101))
    add("description-empty", base("description-empty", description=""))
    add("title-too-long", base("title-too-long", title="t" * 101))
    add("website-not-url", base("website-not-url", websiteUrl="not a url"))
    add("website-http", base("website-http", websiteUrl="http://diff.example.com"))
    add("schema-missing", {k: v for k, v in base("schema-missing").items() if k != "$schema"})
    add("schema-old", base("schema-old", **{"$schema": "https://static.modelcontextprotocol.io/schemas/2025-09-29/server.schema.json"}))
    add("schema-unknown", base("schema-unknown", **{"$schema": "https://example.com/schema.json"}))
    add("repository-no-source", base("repository-no-source", repository={"url": "https://github.com/example/x"}))
    add("repository-bad-url", base("repository-bad-url", repository={"url": "github.com/x", "source": "github"}))
    add("wrong-types", base("wrong-types", description=5, packages={"not": "a list"}))
    add("null-fields", base("null-fields", title=None, packages=None, remotes=None, _meta=None))
    # Versions: reserved, ranges, lengths, and the latest flag across several versions of one name.
    for slug, v in [("latest", "latest"), ("range", "^1.2.3"), ("spaces", "1.0 beta"), ("empty", ""),
                    ("long", "1." + "0" * 260), ("v-prefix", "v1.0.0"), ("date", "2025.01.15")]:
        add(f"version-{slug}", base(f"version-{slug}", version=v))
    for v in ["1.0.0", "1.1.0", "2.0.0-beta.1", "1.2.0+build.5", "1.2.0+build.6", "0.9.0", "2024.10", "1.1.0"]:
        add(f"multi-{v}", base("multi", version=v))
    return out


def real_entries(docs):
    """Entries of a real seed file (e.g. the official repository's data/seed.json): `$schema` added where the
    file predates it, the version made unique per run by the caller's order."""
    out = []
    for i, d in enumerate(docs):
        d = copy.deepcopy(d)
        d.setdefault("$schema", SCHEMA)
        out.append((f"real-{i:03d}", d))
    return out
