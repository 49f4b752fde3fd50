//! The README's map of the workspace matches the workspace: the crate table under
//! "## Architecture" lists exactly the folders `crates/*` that hold a `Cargo.toml` (the root
//! manifest's `members = ["crates/*"]`), and the architecture sketch names every one of them.
//! What each crate owns is for a reader to judge; this test only keeps the list honest.

use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The workspace's library crates: every `crates/<name>/Cargo.toml`.
fn workspace_crates() -> BTreeSet<String> {
    let crates = Path::new(ROOT).join("crates");
    std::fs::read_dir(&crates)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", crates.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("Cargo.toml").is_file())
        .map(|dir| dir.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The README's "## Architecture" section, up to the next `## ` heading.
fn architecture_section(readme: &str) -> &str {
    let start = readme.find("\n## Architecture\n").expect("README.md has a '## Architecture' section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The crates named in the section's table: rows whose first cell is `` `crates/<name>` ``.
fn table_crates(section: &str) -> Vec<String> {
    section
        .lines()
        .filter_map(|line| line.strip_prefix("| `crates/"))
        .map(|rest| rest.split_once('`').expect("a crate row closes its path's backticks").0)
        .map(|name| name.trim_end_matches('/').to_owned())
        .collect()
}

/// The section's first fenced block: the dependency sketch.
fn sketch(section: &str) -> &str {
    let open = section.find("```").expect("the Architecture section has a sketch in a ``` block");
    let body = &section[open + 3..];
    &body[..body.find("```").expect("the sketch's ``` block is closed")]
}

#[test]
fn the_readme_crate_table_lists_exactly_the_workspace_crates() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let rows = table_crates(architecture_section(&readme));
    let listed: BTreeSet<String> = rows.iter().cloned().collect();
    assert_eq!(listed.len(), rows.len(), "the README's crate table lists a crate twice: {rows:?}");
    let members = workspace_crates();
    let missing: Vec<_> = members.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&members).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "README.md's crate table (under '## Architecture') and crates/*/Cargo.toml disagree:\n  \
         in the workspace but not in the table: {missing:?}\n  \
         in the table but not in the workspace: {extra:?}\n\
         add a '| `crates/<name>` | what it owns |' row for each new crate, and remove the rows of \
         crates that are gone"
    );
}

#[test]
fn the_readme_sketch_names_every_workspace_crate() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let sketch = sketch(architecture_section(&readme));
    let words: BTreeSet<&str> = sketch.split(|c: char| !c.is_ascii_alphanumeric() && c != '-').collect();
    let unnamed: Vec<_> = workspace_crates().into_iter().filter(|name| !words.contains(name.as_str())).collect();
    assert!(unnamed.is_empty(), "README.md's architecture sketch does not name {unnamed:?}:\n{sketch}");
}

#[test]
fn the_table_parser_reads_rows_and_ignores_other_lines() {
    let section = "## Architecture\n\n| path | owns |\n|---|---|\n| `crates/a` | x |\n| `crates/b/` | y |\n\
                   | `node-app/` | z |\n";
    assert_eq!(table_crates(section), ["a", "b"]);
    let readme = "intro\n## Architecture\n```\nsketch\n```\n| `crates/a` | x |\n## Next\n| `crates/c` | y |\n";
    let section = architecture_section(readme);
    assert_eq!(table_crates(section), ["a"], "rows after the next heading are not the map's");
    assert_eq!(sketch(section).trim(), "sketch");
}
