//! Writing a snapshot back in the order its author wrote it. Serializing the model puts the
//! fields commcred knows first and the others after, so `displayName` would move on every
//! apply and a reviewed `git diff` of tenant.json would show lines that did not change.
//! Instead, every object of the written JSON takes its keys in the original file's order,
//! and new keys follow.

use serde_json::{Map, Value};

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
        (Value::Array(before), Value::Array(after)) => Value::Array(
            after
                .into_iter()
                .enumerate()
                .map(|(n, value)| match partner(before, &value, n) {
                    Some(old) => keep_key_order(old, value),
                    None => value,
                })
                .collect(),
        ),
        (_, new) => new,
    }
}

/// The element of `before` that `value` (at position `n`) was written from.
fn partner<'a>(before: &'a [Value], value: &Value, n: usize) -> Option<&'a Value> {
    let key = |v: &Value| {
        ["id", "skuId"].iter().find_map(|k| {
            v.get(k)
                .and_then(Value::as_str)
                .map(|s| (*k, s.to_string()))
        })
    };
    match key(value) {
        Some(wanted) => before.iter().find(|old| key(old).as_ref() == Some(&wanted)),
        None => before.get(n),
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
}
