//! Writing a snapshot back in the order its author wrote it. Serializing the model puts the
//! fields commcred knows first and the others after, so `displayName` would move on every
//! apply and a reviewed `git diff` of tenant.json would show lines that did not change.
//! Instead, every object of the written JSON takes its keys in the original file's order,
//! and new keys follow.
//!
//! Linear in the size of the snapshot: each array's originals are indexed once by key, so
//! pairing 100,000 users costs one hash lookup each, not a scan of the original array.

use std::collections::HashMap;

use serde_json::{Map, Value};

/// The keys array elements are paired by, in order of preference.
const PAIRING_KEYS: [&str; 2] = ["id", "skuId"];

/// Arrays up to this length are searched directly: an index would cost more than it saves
/// (a user's `assignedLicenses` holds a handful of entries).
const SCAN_BELOW: usize = 16;

/// `new` with each object's keys in the order `original` has them. Array elements are
/// paired by their `id` (or `skuId`), else by position.
pub fn keep_key_order(original: &Value, new: Value) -> Value {
    match (original, new) {
        (Value::Object(before), Value::Object(mut after)) => {
            let mut ordered = Map::with_capacity(after.len());
            for (key, old) in before {
                if let Some(value) = after.remove(key) {
                    ordered.insert(key.clone(), keep_key_order(old, value));
                }
            }
            ordered.extend(after);
            Value::Object(ordered)
        }
        (Value::Array(before), Value::Array(after)) => {
            let originals = Originals::new(before);
            Value::Array(
                after
                    .into_iter()
                    .enumerate()
                    .map(|(n, value)| match originals.partner(&value, n) {
                        Some(old) => keep_key_order(old, value),
                        None => value,
                    })
                    .collect(),
            )
        }
        (_, new) => new,
    }
}

/// The key an array element is paired by: the first of [`PAIRING_KEYS`] it has as a string.
fn pairing_key(value: &Value) -> Option<(&'static str, &str)> {
    PAIRING_KEYS
        .iter()
        .find_map(|k| value.get(k).and_then(Value::as_str).map(|s| (*k, s)))
}

/// The elements of an original array, looked up by pairing key.
struct Originals<'a> {
    before: &'a [Value],
    /// For long arrays: each key's first element (as a scan would find it).
    by_key: Option<HashMap<(&'static str, &'a str), &'a Value>>,
}

impl<'a> Originals<'a> {
    fn new(before: &'a [Value]) -> Originals<'a> {
        let by_key = (before.len() >= SCAN_BELOW).then(|| {
            let mut map = HashMap::with_capacity(before.len());
            for old in before {
                if let Some(key) = pairing_key(old) {
                    map.entry(key).or_insert(old);
                }
            }
            map
        });
        Originals { before, by_key }
    }

    /// The element of the original array that `value` (at position `n`) was written from.
    fn partner(&self, value: &Value, n: usize) -> Option<&'a Value> {
        let Some(wanted) = pairing_key(value) else {
            return self.before.get(n);
        };
        match &self.by_key {
            Some(map) => map.get(&wanted).copied(),
            None => self
                .before
                .iter()
                .find(|old| pairing_key(old) == Some(wanted)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_keep_their_order_and_new_ones_follow() {
        let original = json!({"b": 1, "a": {"y": 1, "x": 2}, "list": [{"id": "2", "q": 1, "p": 2}, {"id": "1", "q": 1, "p": 2}]});
        let new = json!({"a": {"x": 3, "y": 1, "z": 0}, "b": 1, "list": [{"p": 2, "q": 1, "id": "1"}, {"p": 5, "id": "3"}], "c": true});
        let kept = keep_key_order(&original, new);
        assert_eq!(
            serde_json::to_string(&kept).unwrap(),
            r#"{"b":1,"a":{"y":1,"x":3,"z":0},"list":[{"id":"1","q":1,"p":2},{"p":5,"id":"3"}],"c":true}"#
        );
    }

    /// Long arrays go through the index: elements still pair by key wherever they moved,
    /// the first of two originals with one key wins (as the scan does), an `id` never pairs
    /// with a `skuId` of the same text, and elements without a key pair by position.
    #[test]
    fn long_arrays_pair_by_key_like_short_ones() {
        let n = SCAN_BELOW * 2;
        let mut before: Vec<Value> = (0..n)
            .map(|i| json!({"id": i.to_string(), "b": 1, "a": 2}))
            .collect();
        before.push(json!({"id": "0", "a": 9, "b": 9}));
        before.push(json!({"skuId": "x", "b": 1, "a": 2}));
        before.push(json!({"b": 1, "a": 2}));
        let mut after: Vec<Value> = (0..n)
            .rev()
            .map(|i| json!({"a": 2, "b": 1, "id": i.to_string()}))
            .collect();
        after.push(json!({"a": 2, "b": 1, "id": "x"}));
        after.push(json!({"a": 2, "b": 1, "skuId": "x"}));
        after.push(json!({"a": 2, "b": 1}));
        let kept = keep_key_order(&Value::Array(before.clone()), Value::Array(after.clone()));
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        let kept = kept.as_array().unwrap();
        assert_eq!(kept.len(), after.len());
        for v in &kept[..n] {
            assert_eq!(keys(v), ["id", "b", "a"], "{v}");
        }
        assert_eq!(keys(&kept[n]), ["a", "b", "id"], "an id matches no skuId");
        assert_eq!(keys(&kept[n + 1]), ["skuId", "b", "a"]);
        assert_eq!(keys(&kept[n + 2]), ["b", "a"], "no key: paired by position");
    }
}
