//! What the official registry keeps of a published body: `json.Unmarshal` into the Go model, then
//! `json.Marshal` back (see [`super::normalize_for_storage`]).

use serde_json::{Map, Number, Value};

use super::model::{self, Emit, Node, Prop};

/// Re-encode `value` as the Go model would after an unmarshal/marshal round trip.
pub(crate) fn normalize(node: &Node, value: Option<&Value>) -> Value {
    let value = value.filter(|v| !v.is_null());
    match node {
        Node::Str(_) => Value::String(value.and_then(Value::as_str).unwrap_or("").to_string()),
        Node::Bool => Value::Bool(value.and_then(Value::as_bool).unwrap_or(false)),
        Node::Array(item) => Value::Array(
            value
                .and_then(Value::as_array)
                .map(|arr| arr.iter().map(|v| normalize(item, Some(v))).collect())
                .unwrap_or_default(),
        ),
        Node::Struct(props) => {
            let empty = Map::new();
            let obj = value.and_then(Value::as_object).unwrap_or(&empty);
            Value::Object(normalize_struct(props, obj))
        }
        Node::Map(item) => Value::Object(
            value
                .and_then(Value::as_object)
                .map(|obj| {
                    obj.iter()
                        .map(|(k, v)| (k.clone(), normalize(item, Some(v))))
                        .collect()
                })
                .unwrap_or_default(),
        ),
        Node::FreeObject => {
            let obj = value
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            go_numbers(Value::Object(obj))
        }
    }
}

fn normalize_struct(props: &[Prop], obj: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for prop in props {
        let raw = model::lookup(obj, prop.name).filter(|v| !v.is_null());
        if prop.emit != Emit::Always && raw.is_none() {
            continue;
        }
        let v = normalize(prop.node, raw);
        if prop.emit == Emit::OmitEmpty && is_go_empty(prop.node, &v) {
            continue;
        }
        out.insert(prop.name.to_string(), v);
    }
    out
}

/// Go's `omitempty` emptiness. Structs are never empty.
fn is_go_empty(node: &Node, v: &Value) -> bool {
    match (node, v) {
        (Node::Struct(_), _) => false,
        (_, Value::String(s)) => s.is_empty(),
        (_, Value::Bool(b)) => !b,
        (_, Value::Array(a)) => a.is_empty(),
        (_, Value::Object(o)) => o.is_empty(),
        (_, Value::Null) => true,
        _ => false,
    }
}

/// `map[string]interface{}` holds numbers as float64: `1.0` comes back as `1`, and integers beyond
/// 2^53 lose precision, exactly as on the official registry.
pub(crate) fn go_numbers(v: Value) -> Value {
    match v {
        Value::Number(n) => Value::Number(go_number(&n)),
        Value::Array(a) => Value::Array(a.into_iter().map(go_numbers).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, go_numbers(v))).collect()),
        other => other,
    }
}

fn go_number(n: &Number) -> Number {
    let Some(f) = n.as_f64() else {
        return n.clone();
    };
    if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        // Exactly representable integers: write them as integers, like Go's 'f' formatting.
        return Number::from(f as i64);
    }
    Number::from_f64(f).unwrap_or_else(|| n.clone())
}

/// The length of `json.Marshal(v)` for a value decoded into `interface{}`: keys sorted, `<`, `>`,
/// `&`, U+2028 and U+2029 escaped, numbers printed from float64.
pub(crate) fn go_json_len(v: &Value) -> usize {
    match v {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => go_float_text(n.as_f64().unwrap_or(0.0)).len(),
        Value::String(s) => go_string_len(s),
        Value::Array(a) => 2 + a.iter().map(go_json_len).sum::<usize>() + a.len().saturating_sub(1),
        Value::Object(o) => {
            2 + o
                .iter()
                .map(|(k, v)| go_string_len(k) + 1 + go_json_len(v))
                .sum::<usize>()
                + o.len().saturating_sub(1)
        }
    }
}

fn go_string_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => 6,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum::<usize>()
}

/// `strconv.FormatFloat` as `encoding/json` uses it for float64.
pub(crate) fn go_float_text(f: f64) -> String {
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_text_like_go() {
        assert_eq!(go_float_text(1.0), "1");
        assert_eq!(go_float_text(1.5), "1.5");
        assert_eq!(go_float_text(-0.25), "-0.25");
        assert_eq!(go_float_text(1e21), "1e+21");
        assert_eq!(go_float_text(1e-7), "1e-7");
        assert_eq!(
            go_float_text(123456789012345680000.0),
            "123456789012345680000"
        );
    }

    #[test]
    fn json_len_matches_go_marshal() {
        // Values computed with Go's json.Marshal on the decoded interface{}.
        assert_eq!(
            go_json_len(&json!({"b": 1.0, "a": [true, null, "x"]})),
            r#"{"a":[true,null,"x"],"b":1}"#.len()
        );
        assert_eq!(
            go_json_len(&json!({"k": "<&>"})),
            r#"{"k":"\u003c\u0026\u003e"}"#.len()
        );
        assert_eq!(go_json_len(&json!("é\u{2028}\n")), "\"é\\u2028\\n\"".len());
        assert_eq!(go_json_len(&json!({})), 2);
    }

    #[test]
    fn numbers_become_float64() {
        assert_eq!(
            go_numbers(json!({"a": 1.0, "b": [2.5, 3]})),
            json!({"a": 1, "b": [2.5, 3]})
        );
        assert_eq!(
            go_numbers(json!(12345678901234567890u64)),
            json!(12345678901234567000.0)
        );
    }
}
