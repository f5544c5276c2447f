// A reader for the small YAML subset eflatency's `-y` file is written in: `key: value`
// lines at the top level, values that are plain scalars, flow sequences (`[ a, b ]`) or
// flow mappings (`{ k: v, ... }`), and one block sequence of flow mappings (`results:` then
// `  - { ... }` lines). Anything else is an error, so a malformed file fails the test.

use std::collections::BTreeMap;

/// A YAML value of that subset.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A plain scalar, as written.
    Scalar(String),
    /// `[ a, b ]`.
    Seq(Vec<String>),
    /// `{ k: v, ... }`.
    Map(BTreeMap<String, String>),
    /// A block sequence of flow mappings.
    Items(Vec<BTreeMap<String, String>>),
}

fn flow_map(s: &str) -> Result<BTreeMap<String, String>, String> {
    let inner = s
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .ok_or_else(|| format!("not a flow mapping: {s:?}"))?;
    inner
        .split(',')
        .map(|kv| {
            let (k, v) = kv
                .split_once(':')
                .ok_or_else(|| format!("no ':' in {kv:?}"))?;
            Ok((k.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn value(s: &str) -> Result<Value, String> {
    let s = s.trim();
    if s.starts_with('{') {
        return flow_map(s).map(Value::Map);
    }
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or_else(|| format!("unclosed flow sequence {s:?}"))?;
        return Ok(Value::Seq(
            inner.split(',').map(|v| v.trim().to_owned()).collect(),
        ));
    }
    Ok(Value::Scalar(s.to_owned()))
}

/// Parses one YAML document of the subset into its top-level keys.
pub fn parse(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let mut doc = BTreeMap::new();
    let mut open_items: Option<String> = None;
    let mut started = false;
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "---" {
            if started {
                return Err("more than one document".into());
            }
            started = true;
            continue;
        }
        if let Some(item) = line.strip_prefix("  - ") {
            let key = open_items
                .as_ref()
                .ok_or_else(|| format!("sequence item outside a block: {line:?}"))?;
            match doc.get_mut(key) {
                Some(Value::Items(v)) => v.push(flow_map(item.trim())?),
                _ => return Err(format!("sequence item after a scalar: {line:?}")),
            }
            continue;
        }
        if line.starts_with(' ') {
            return Err(format!("unexpected indentation: {line:?}"));
        }
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| format!("no ':' in {line:?}"))?;
        let v = v.trim();
        let parsed = if v.is_empty() {
            open_items = Some(k.to_owned());
            Value::Items(Vec::new())
        } else {
            open_items = None;
            value(v)?
        };
        if doc.insert(k.to_owned(), parsed).is_some() {
            return Err(format!("duplicate key {k:?}"));
        }
    }
    Ok(doc)
}
