//! The committed JSON Schemas must be exactly what the types generate.

use std::path::Path;

#[test]
fn committed_schemas_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/schema");
    for (name, schema) in claimbench_model::schema::all() {
        let path = dir.join(name);
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == claimbench_model::schema::to_text(&schema),
            "{} is out of date with the types in claimbench-model: regenerate it with \
             `cargo run --release -p claimbench-model --example write_schemas` and commit the result",
            path.display()
        );
    }
}

#[test]
fn recorded_results_match_the_results_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let schema = serde_json::to_value(claimbench_model::schema::run_results()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for name in ["recorded-smoke.json", "scripted-run.json", "scripted-standard.json"] {
        let text = std::fs::read_to_string(root.join("results").join(name)).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let problems: Vec<String> =
            validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path)).collect();
        assert!(problems.is_empty(), "{name}: {problems:#?}");
        let mut broken = value.clone();
        broken.as_object_mut().unwrap().remove("claims");
        assert!(!validator.is_valid(&broken), "{name}: the schema accepts results without claims");
    }
}
