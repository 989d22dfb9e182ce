//! The official server.json model (`apiv0.ServerJSON` and `pkg/model` types) as data.
//!
//! One table drives two things that must agree with each other:
//! - [`super::structure`]: the checks huma derives from the Go struct tags (required, minLength,
//!   maxLength, pattern, enum, format, JSON types), and
//! - [`super::normalize`]: what `json.Unmarshal` into the Go structs keeps and how `json.Marshal`
//!   writes it back (`omitempty`, pointer fields), i.e. what the official registry stores.
//!
//! Properties are listed in Go struct field order, because huma reports errors in that order.

/// How a property is written back by `json.Marshal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Emit {
    /// No `omitempty`: always written, as the zero value when absent.
    Always,
    /// `omitempty` on a value type: dropped when empty (`""`, `false`, empty slice or map).
    OmitEmpty,
    /// `omitempty` on a pointer: dropped only when absent or `null`; `""` / `{}` are kept.
    OmitNil,
}

/// Regex-backed string patterns used by the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pattern {
    ServerName,
    Sha256,
    IconSize,
}

impl Pattern {
    pub fn source(self) -> &'static str {
        match self {
            Pattern::ServerName => "^[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+$",
            Pattern::Sha256 => "^[a-f0-9]{64}$",
            Pattern::IconSize => r"^(\d+x\d+|any)$",
        }
    }

    pub fn is_match(self, s: &str) -> bool {
        use regex::Regex;
        use std::sync::OnceLock;
        static NAME: OnceLock<Regex> = OnceLock::new();
        static SHA: OnceLock<Regex> = OnceLock::new();
        static SIZE: OnceLock<Regex> = OnceLock::new();
        // Go RE2 `\d` is ASCII-only, so spell it out instead of using Rust's Unicode `\d`.
        let (cell, src) = match self {
            Pattern::ServerName => (&NAME, self.source()),
            Pattern::Sha256 => (&SHA, self.source()),
            Pattern::IconSize => (&SIZE, "^([0-9]+x[0-9]+|any)$"),
        };
        cell.get_or_init(|| Regex::new(src).expect("static pattern compiles"))
            .is_match(s)
    }
}

/// String constraints (huma tags).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StrRules {
    pub min: Option<usize>,
    pub max: Option<usize>,
    pub pattern: Option<Pattern>,
    pub format_uri: bool,
    pub one_of: &'static [&'static str],
}

const fn plain() -> StrRules {
    StrRules {
        min: None,
        max: None,
        pattern: None,
        format_uri: false,
        one_of: &[],
    }
}

/// A node of the model.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Node {
    Str(StrRules),
    Bool,
    Array(&'static Node),
    Struct(&'static [Prop]),
    /// `map[string]T`
    Map(&'static Node),
    /// `map[string]interface{}`: any JSON object, kept verbatim.
    FreeObject,
}

/// A struct field.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prop {
    pub name: &'static str,
    pub required: bool,
    pub emit: Emit,
    pub node: &'static Node,
}

const fn req(name: &'static str, node: &'static Node) -> Prop {
    Prop {
        name,
        required: true,
        emit: Emit::Always,
        node,
    }
}

const fn opt(name: &'static str, node: &'static Node) -> Prop {
    Prop {
        name,
        required: false,
        emit: Emit::OmitEmpty,
        node,
    }
}

const fn ptr(name: &'static str, node: &'static Node) -> Prop {
    Prop {
        name,
        required: false,
        emit: Emit::OmitNil,
        node,
    }
}

static STR: Node = Node::Str(plain());
static BOOL: Node = Node::Bool;
static STR_ARRAY: Node = Node::Array(&STR);
static URI: Node = Node::Str(StrRules {
    format_uri: true,
    ..plain()
});
static MIN1: Node = Node::Str(StrRules {
    min: Some(1),
    ..plain()
});

/// The publisher-provided `_meta` key, the only one the model keeps.
pub const PUBLISHER_PROVIDED_KEY: &str = "io.modelcontextprotocol.registry/publisher-provided";

static FREE_OBJECT: Node = Node::FreeObject;
static META_PROPS: [Prop; 1] = [opt(PUBLISHER_PROVIDED_KEY, &FREE_OBJECT)];
static META: Node = Node::Struct(&META_PROPS);

static REPOSITORY_PROPS: [Prop; 4] = [
    opt("url", &URI),
    opt("source", &STR),
    opt("id", &STR),
    opt("subfolder", &STR),
];
static REPOSITORY: Node = Node::Struct(&REPOSITORY_PROPS);

static ICON_SRC: Node = Node::Str(StrRules {
    max: Some(255),
    format_uri: true,
    ..plain()
});
static ICON_MIME: Node = Node::Str(StrRules {
    one_of: &[
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/svg+xml",
        "image/webp",
    ],
    ..plain()
});
static ICON_SIZE: Node = Node::Str(StrRules {
    pattern: Some(Pattern::IconSize),
    ..plain()
});
static ICON_SIZES: Node = Node::Array(&ICON_SIZE);
static ICON_THEME: Node = Node::Str(StrRules {
    one_of: &["light", "dark"],
    ..plain()
});
static ICON_PROPS: [Prop; 4] = [
    req("src", &ICON_SRC),
    ptr("mimeType", &ICON_MIME),
    opt("sizes", &ICON_SIZES),
    ptr("theme", &ICON_THEME),
];
static ICON: Node = Node::Struct(&ICON_PROPS);

static INPUT_FORMAT: Node = Node::Str(StrRules {
    one_of: &["string", "number", "boolean", "filepath"],
    ..plain()
});

/// `model.Input`
static INPUT_PROPS: [Prop; 8] = [
    opt("description", &STR),
    opt("isRequired", &BOOL),
    opt("format", &INPUT_FORMAT),
    opt("value", &STR),
    opt("isSecret", &BOOL),
    opt("default", &STR),
    opt("placeholder", &STR),
    opt("choices", &STR_ARRAY),
];
static INPUT: Node = Node::Struct(&INPUT_PROPS);
static INPUT_MAP: Node = Node::Map(&INPUT);

/// `model.KeyValueInput` = Input + variables + name
static KEY_VALUE_PROPS: [Prop; 10] = [
    opt("description", &STR),
    opt("isRequired", &BOOL),
    opt("format", &INPUT_FORMAT),
    opt("value", &STR),
    opt("isSecret", &BOOL),
    opt("default", &STR),
    opt("placeholder", &STR),
    opt("choices", &STR_ARRAY),
    opt("variables", &INPUT_MAP),
    req("name", &STR),
];
static KEY_VALUE: Node = Node::Struct(&KEY_VALUE_PROPS);
static KEY_VALUE_ARRAY: Node = Node::Array(&KEY_VALUE);

/// `model.Argument` = Input + variables + type, name, valueHint, isRepeated
static ARGUMENT_PROPS: [Prop; 13] = [
    opt("description", &STR),
    opt("isRequired", &BOOL),
    opt("format", &INPUT_FORMAT),
    // `value` and `valueHint` of an argument keep an explicit "" (model.Argument's own MarshalJSON): a
    // positional argument needs one of them present, and "" is a valid command-line argument.
    ptr("value", &STR),
    opt("isSecret", &BOOL),
    opt("default", &STR),
    opt("placeholder", &STR),
    opt("choices", &STR_ARRAY),
    opt("variables", &INPUT_MAP),
    req("type", &STR),
    opt("name", &STR),
    ptr("valueHint", &STR),
    opt("isRepeated", &BOOL),
];
static ARGUMENT: Node = Node::Struct(&ARGUMENT_PROPS);
static ARGUMENT_ARRAY: Node = Node::Array(&ARGUMENT);

/// `model.Transport` (used for package transports and for remotes)
static TRANSPORT_PROPS: [Prop; 4] = [
    req("type", &STR),
    opt("url", &STR),
    opt("headers", &KEY_VALUE_ARRAY),
    opt("variables", &INPUT_MAP),
];
static TRANSPORT: Node = Node::Struct(&TRANSPORT_PROPS);
static TRANSPORT_ARRAY: Node = Node::Array(&TRANSPORT);

static PACKAGE_VERSION: Node = Node::Str(StrRules {
    min: Some(1),
    max: Some(255),
    ..plain()
});
static SHA256: Node = Node::Str(StrRules {
    pattern: Some(Pattern::Sha256),
    ..plain()
});
static PACKAGE_PROPS: [Prop; 10] = [
    req("registryType", &MIN1),
    opt("registryBaseUrl", &URI),
    req("identifier", &MIN1),
    opt("version", &PACKAGE_VERSION),
    opt("fileSha256", &SHA256),
    opt("runtimeHint", &STR),
    req("transport", &TRANSPORT),
    opt("runtimeArguments", &ARGUMENT_ARRAY),
    opt("packageArguments", &ARGUMENT_ARRAY),
    opt("environmentVariables", &KEY_VALUE_ARRAY),
];
static PACKAGE: Node = Node::Struct(&PACKAGE_PROPS);

static SCHEMA_URI: Node = Node::Str(StrRules {
    min: Some(1),
    format_uri: true,
    ..plain()
});
static NAME: Node = Node::Str(StrRules {
    min: Some(3),
    max: Some(crate::model::MAX_NAME_CHARS),
    pattern: Some(Pattern::ServerName),
    ..plain()
});
static DESCRIPTION: Node = Node::Str(StrRules {
    min: Some(1),
    max: Some(100),
    ..plain()
});
static SERVER_VERSION: Node = Node::Str(StrRules {
    min: Some(1),
    max: Some(255),
    ..plain()
});
static ICON_ARRAY: Node = Node::Array(&ICON);
static PACKAGE_ARRAY: Node = Node::Array(&PACKAGE);

/// `apiv0.ServerJSON`, the publish / edit body.
static SERVER_PROPS: [Prop; 11] = [
    req("$schema", &SCHEMA_URI),
    req("name", &NAME),
    req("description", &DESCRIPTION),
    opt("title", &DESCRIPTION),
    ptr("repository", &REPOSITORY),
    req("version", &SERVER_VERSION),
    opt("websiteUrl", &URI),
    opt("icons", &ICON_ARRAY),
    opt("packages", &PACKAGE_ARRAY),
    opt("remotes", &TRANSPORT_ARRAY),
    ptr("_meta", &META),
];
pub(crate) static SERVER: Node = Node::Struct(&SERVER_PROPS);

/// The status values (`model.Status`).
pub const STATUSES: &[&str] = &["active", "deprecated", "deleted"];

static STATUS: Node = Node::Str(StrRules {
    one_of: STATUSES,
    ..plain()
});
static STATUS_MESSAGE: Node = Node::Str(StrRules {
    max: Some(crate::model::MAX_STATUS_MESSAGE_CHARS),
    ..plain()
});
/// `UpdateServerStatusBody` (PATCH .../status bodies).
static STATUS_BODY_PROPS: [Prop; 2] = [
    req("status", &STATUS),
    ptr("statusMessage", &STATUS_MESSAGE),
];
pub(crate) static STATUS_BODY: Node = Node::Struct(&STATUS_BODY_PROPS);

/// Look a struct field up the way both huma and `encoding/json` do: an exact key first, then a
/// case-insensitive one (Go matches JSON keys to struct fields case-insensitively).
pub(crate) fn lookup<'a>(
    obj: &'a serde_json::Map<String, serde_json::Value>,
    name: &str,
) -> Option<&'a serde_json::Value> {
    if let Some(v) = obj.get(name) {
        return Some(v);
    }
    obj.iter().find(|(k, _)| fold_eq(k, name)).map(|(_, v)| v)
}

/// Go's `strings.EqualFold` (Unicode simple case folding), close enough for field names.
pub(crate) fn fold_eq(a: &str, b: &str) -> bool {
    let fold = |c: char| c.to_lowercase().flat_map(char::to_uppercase);
    a.chars().flat_map(fold).eq(b.chars().flat_map(fold))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn patterns_match_like_go() {
        assert!(Pattern::ServerName.is_match("io.github.user/weather"));
        assert!(!Pattern::ServerName.is_match("no-namespace-separator"));
        assert!(Pattern::IconSize.is_match("48x48"));
        assert!(Pattern::IconSize.is_match("any"));
        // Go's \d is ASCII only: Arabic-Indic digits are not sizes.
        assert!(!Pattern::IconSize.is_match("٤٨x٤٨"));
        assert!(Pattern::Sha256.is_match(&"a".repeat(64)));
        assert!(!Pattern::Sha256.is_match(&"A".repeat(64)));
    }

    #[test]
    fn lookup_is_exact_then_case_insensitive() {
        let v = json!({"Name": "x", "version": "1", "VERSION": "2"});
        let obj = v.as_object().unwrap();
        assert_eq!(lookup(obj, "name"), Some(&json!("x")));
        assert_eq!(lookup(obj, "version"), Some(&json!("1")));
        assert_eq!(lookup(obj, "title"), None);
        // Kelvin sign folds to k, as in Go.
        let k = json!({"\u{212a}ey": 1});
        assert_eq!(lookup(k.as_object().unwrap(), "key"), Some(&json!(1)));
    }
}
