//! A generic YAML tree where every node knows where it was written.
//!
//! We do not deserialize `commcred.yaml` straight into typed structs: serde stops at the
//! first error and loses spans under `untagged` enums (a `users` item is an inline user or a
//! CSV source). Instead the parser builds this tree, and `validate` walks it, collecting every
//! problem (the cargo-deny / toml-span approach).

use std::fmt;

use miette::SourceSpan;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

/// One YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// Bytes of the node in the YAML source (where it is used, for an alias).
    pub span: SourceSpan,
    /// 1-based line and column (characters) of `span`'s start.
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, kept as its source text so that money never passes through a float.
    Number(String),
    String(String),
    Seq(Vec<Node>),
    /// Entries in written order (duplicate keys are rejected by the parser).
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// What the value is, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }
}

impl Node {
    /// The text of a scalar as the user would read it: strings as is, numbers as written.
    pub fn scalar_text(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Converts the parser's spanned tree, reading number text back from `source`.
    pub(crate) fn from_raw(raw: Spanned<RawValue>, source: &str) -> Node {
        let Spanned {
            value,
            referenced,
            defined,
        } = raw;
        let value = match value {
            RawValue::Null => Value::Null,
            RawValue::Bool(b) => Value::Bool(b),
            // The definition (not an alias `*a`) holds the digits.
            RawValue::Number => Value::Number(slice(source, &defined).trim().to_string()),
            RawValue::String(s) => Value::String(s),
            RawValue::Seq(items) => Value::Seq(
                items
                    .into_iter()
                    .map(|item| Node::from_raw(item, source))
                    .collect(),
            ),
            RawValue::Map(entries) => Value::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (Node::from_raw(k, source), Node::from_raw(v, source)))
                    .collect(),
            ),
        };
        Node {
            value,
            span: source_span(&referenced, source),
            line: referenced.line() as usize,
            column: referenced.column() as usize,
        }
    }
}

/// The byte span of a location, clamped to the source (a zero-length span at the start
/// when the parser gave none).
pub(crate) fn source_span(location: &Location, source: &str) -> SourceSpan {
    let span = location.span();
    let offset = span.byte_offset().unwrap_or(0) as usize;
    let len = span.byte_len().unwrap_or(0) as usize;
    let offset = offset.min(source.len());
    let len = len.min(source.len() - offset);
    SourceSpan::new(offset.into(), len)
}

fn slice<'s>(source: &'s str, location: &Location) -> &'s str {
    let span = source_span(location, source);
    source
        .get(span.offset()..span.offset() + span.len())
        .unwrap_or_default()
}

/// What the parser hands us before spans are turned into miette spans.
#[derive(Debug)]
pub(crate) enum RawValue {
    Null,
    Bool(bool),
    Number,
    String(String),
    Seq(Vec<Spanned<RawValue>>),
    Map(Vec<(Spanned<RawValue>, Spanned<RawValue>)>),
}

impl<'de> Deserialize<'de> for RawValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = RawValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_none<E>(self) -> Result<RawValue, E> {
        Ok(RawValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawValue, D::Error> {
        d.deserialize_any(RawVisitor)
    }
    fn visit_bool<E>(self, b: bool) -> Result<RawValue, E> {
        Ok(RawValue::Bool(b))
    }
    // Numbers keep no value here: their exact text is sliced from the source afterwards.
    fn visit_i64<E>(self, _: i64) -> Result<RawValue, E> {
        Ok(RawValue::Number)
    }
    fn visit_u64<E>(self, _: u64) -> Result<RawValue, E> {
        Ok(RawValue::Number)
    }
    fn visit_i128<E>(self, _: i128) -> Result<RawValue, E> {
        Ok(RawValue::Number)
    }
    fn visit_u128<E>(self, _: u128) -> Result<RawValue, E> {
        Ok(RawValue::Number)
    }
    fn visit_f64<E>(self, _: f64) -> Result<RawValue, E> {
        Ok(RawValue::Number)
    }
    fn visit_str<E>(self, s: &str) -> Result<RawValue, E> {
        Ok(RawValue::String(s.to_string()))
    }
    fn visit_string<E>(self, s: String) -> Result<RawValue, E> {
        Ok(RawValue::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawValue, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(RawValue::Map(entries))
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<RawValue, E> {
        Err(E::custom("binary values are not supported"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Node {
        let raw: Spanned<RawValue> = serde_saphyr::from_str(src).unwrap();
        Node::from_raw(raw, src)
    }

    fn text(src: &str, node: &Node) -> String {
        src[node.span.offset()..node.span.offset() + node.span.len()].to_string()
    }

    #[test]
    fn numbers_keep_their_text_and_nodes_their_place() {
        let src = "a: 10.50\nb: \"x y\"\nc:\n  - 0.1\nf: &x 1.10\ng: *x\n";
        let node = parse(src);
        let map = node.as_map().unwrap();
        assert_eq!(map[0].1.value, Value::Number("10.50".into()));
        assert_eq!((map[0].1.line, map[0].1.column), (1, 4));
        // A quoted string's span covers its quotes.
        assert_eq!(text(src, &map[1].1), "\"x y\"");
        let Value::Seq(items) = &map[2].1.value else {
            panic!("not a list")
        };
        assert_eq!(items[0].value, Value::Number("0.1".into()));
        // An alias is labelled where it is used and read where it is defined.
        assert_eq!(text(src, &map[4].1), "*x");
        assert_eq!(map[4].1.value, Value::Number("1.10".into()));
    }
}
