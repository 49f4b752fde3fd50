//! The JSON Schemas of the files claimbench writes, generated from the types in this crate.
//!
//! `fixtures/schema/*.schema.json` are these schemas, committed so that other tools can read
//! them; `cargo run -p claimbench-model --example write_schemas` rewrites them, and the test in
//! `tests/schema.rs` fails when a committed file no longer matches the types. Validating real
//! output against them is the writers' tests' job (e.g. the engine's `tests/outputs.rs`).

use schemars::{schema_for, Schema};

use crate::load::LoadResult;
use crate::run::RunResults;

/// Each schema with its file name under `fixtures/schema/`.
pub fn all() -> [(&'static str, Schema); 2] {
    [("load-result.schema.json", load_result()), ("results.schema.json", run_results())]
}

/// The schema of one load result: `claimbench load --json`, and every measurement's `load`.
pub fn load_result() -> Schema {
    schema_for!(LoadResult)
}

/// The schema of a run's `results.json`.
pub fn run_results() -> Schema {
    schema_for!(RunResults)
}

/// A schema as committed: pretty JSON with a final newline.
pub fn to_text(schema: &Schema) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema is plain JSON");
    text.push('\n');
    text
}
