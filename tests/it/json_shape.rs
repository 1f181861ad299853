//! Comparing JSON answers by shape: the same keys, the same JSON value types, recursively
//! (for `graph_wire`: the emulator's answers against Microsoft's examples). Every allowed
//! difference is listed by the caller with why.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Null => Kind::Null,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::Array,
        Value::Object(_) => Kind::Object,
    }
}

/// How to read Microsoft's side.
#[derive(Default)]
pub struct Rules {
    /// Microsoft's side is a resource's "JSON representation": its values name types
    /// (`"String"`, `"guid"`, `"Collection(String)"` …), nested resources are
    /// `{"@odata.type": "microsoft.graph.X"}` (looked up in `resources`), Graph returns
    /// `null` for a property without a value, and a property not `$select`ed is absent.
    pub representation: bool,
    pub resources: Vec<(&'static str, Value)>,
    /// Paths (`value[].headers`) compared by kind only: their keys are the server's own.
    pub opaque: &'static [&'static str],
    /// Keys the emulator has and Microsoft's example does not, each with why.
    pub extra_ok: &'static [(&'static str, &'static str)],
    /// Keys of Microsoft's example the emulator may leave out, each with why.
    pub missing_ok: &'static [(&'static str, &'static str)],
    /// Keys the emulator may answer `null` where Microsoft's example has a value, with why.
    pub null_ok: &'static [(&'static str, &'static str)],
}

/// The kind a representation's value stands for.
fn declared(v: &Value) -> Kind {
    match v {
        Value::String(s) if s.trim().starts_with("Collection(") => Kind::Array,
        other => kind(other),
    }
}

impl Rules {
    fn resource(&self, v: &Value) -> Option<&Value> {
        let t = v.get("@odata.type")?.as_str()?;
        self.resources
            .iter()
            .find(|(name, _)| t.ends_with(name))
            .map(|(_, r)| r)
    }

    fn listed(list: &[(&str, &str)], path: &str) -> bool {
        list.iter().any(|(p, _)| *p == path)
    }
}

/// Every way `emulator` differs from `microsoft` in keys and value kinds, by path.
pub fn differences(microsoft: &Value, emulator: &Value, rules: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    compare(
        std::slice::from_ref(microsoft),
        emulator,
        "",
        rules,
        &mut out,
    );
    out
}

/// Compares `emu` with every example of the same place (`ms`, several when they come from
/// the elements of an array).
fn compare(ms: &[Value], emu: &Value, path: &str, rules: &Rules, out: &mut Vec<String>) {
    let ms: Vec<Value> = ms
        .iter()
        .map(|m| rules.resource(m).cloned().unwrap_or_else(|| m.clone()))
        .collect();
    let allowed: BTreeSet<Kind> = ms
        .iter()
        .map(|m| {
            if rules.representation {
                declared(m)
            } else {
                kind(m)
            }
        })
        .collect();
    let got = kind(emu);
    let null_ok = (rules.representation && !matches!(got, Kind::Array | Kind::Object))
        || Rules::listed(rules.null_ok, path);
    if !(allowed.contains(&got) || (null_ok && got == Kind::Null)) {
        out.push(format!(
            "{path}: the emulator has {got:?}, Microsoft {allowed:?}"
        ));
        return;
    }
    if rules.opaque.contains(&path) {
        return;
    }
    match emu {
        Value::Object(e) => {
            let examples: Vec<&Map<String, Value>> =
                ms.iter().filter_map(Value::as_object).collect();
            compare_objects(&examples, e, path, rules, out);
        }
        Value::Array(items) => {
            let examples: Vec<Value> = ms
                .iter()
                .filter_map(Value::as_array)
                .flatten()
                .cloned()
                .collect();
            // Microsoft's empty array ([] or "Collection(String)") says only "an array".
            if examples.is_empty() {
                return;
            }
            for item in items {
                compare(&examples, item, &format!("{path}[]"), rules, out);
            }
        }
        _ => {}
    }
}

fn compare_objects(
    ms: &[&Map<String, Value>],
    emu: &Map<String, Value>,
    path: &str,
    rules: &Rules,
    out: &mut Vec<String>,
) {
    let child = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    for (k, v) in emu {
        let examples: Vec<Value> = ms.iter().filter_map(|m| m.get(k)).cloned().collect();
        if examples.is_empty() {
            if !Rules::listed(rules.extra_ok, &child(k)) {
                out.push(format!(
                    "{}: the emulator has it, Microsoft does not",
                    child(k)
                ));
            }
            continue;
        }
        // Where Microsoft's example has null and a value elsewhere, both are fine; null
        // alone says nothing about the kind.
        let typed: Vec<Value> = examples.iter().filter(|e| !e.is_null()).cloned().collect();
        if typed.is_empty() || (v.is_null() && examples.iter().any(Value::is_null)) {
            continue;
        }
        compare(&typed, v, &child(k), rules, out);
    }
    if rules.representation {
        return;
    }
    let keys: BTreeSet<&String> = ms.iter().flat_map(|m| m.keys()).collect();
    for k in keys {
        if !emu.contains_key(k.as_str()) && !Rules::listed(rules.missing_ok, &child(k)) {
            out.push(format!(
                "{}: Microsoft has it, the emulator does not",
                child(k)
            ));
        }
    }
}

/// Only the `$select`ed properties of each `value` item, as Graph answers a `$select`.
pub fn selected(mut example: Value, select: &[&str]) -> Value {
    if let Some(items) = example["value"].as_array_mut() {
        for item in items {
            if let Value::Object(o) = item {
                o.retain(|k, _| select.contains(&k.as_str()));
            }
        }
    }
    example
}

pub fn assert_same_wire(what: &str, microsoft: &Value, emulator: &Value, rules: &Rules) {
    let found = differences(microsoft, emulator, rules);
    assert!(
        found.is_empty(),
        "{what}: the emulator's answer differs from Microsoft's example:\n  {}\nemulator: {emulator}",
        found.join("\n  ")
    );
}
