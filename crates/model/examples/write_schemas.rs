//! Rewrites `fixtures/schema/*.schema.json` from the model's types:
//! `cargo run --release -p claimbench-model --example write_schemas`.

use std::path::Path;

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/schema");
    for (name, schema) in claimbench_model::schema::all() {
        let path = dir.join(name);
        std::fs::write(&path, claimbench_model::schema::to_text(&schema))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
