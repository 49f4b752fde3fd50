//! Canonical JSON comparison (the model's [`json_equal`]: object key order is ignored and numbers
//! compare by value, so `1` equals `1.0`) and the `{stack}` placeholder of expected bodies.

use serde_json::Value;

pub use claimbench_model::contract::json_equal;

/// Replaces the placeholder `{stack}` in every string of `value`.
pub fn substitute_stack(value: &Value, stack: &str) -> Value {
    match value {
        Value::String(s) => Value::String(s.replace("{stack}", stack)),
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute_stack(v, stack)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute_stack(v, stack))).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_and_number_spelling_do_not_matter() {
        assert!(json_equal(
            &json!({"a": 1, "b": [1, 2.0]}),
            &serde_json::from_str(r#"{"b":[1.0,2],"a":1.0}"#).unwrap()
        ));
    }

    #[test]
    fn different_values_keys_and_lengths_are_caught() {
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": 2})));
        assert!(!json_equal(&json!({"a": 1}), &json!({"a": 1, "b": 1})));
        assert!(!json_equal(&json!([1, 2]), &json!([2, 1])));
        assert!(!json_equal(&json!({"a": "1"}), &json!({"a": 1})));
    }

    #[test]
    fn stack_placeholder_is_filled_in() {
        let v = substitute_stack(&json!({"status": "ok", "stack": "{stack}"}), "express");
        assert_eq!(v, json!({"status": "ok", "stack": "express"}));
    }
}
