//! `summary.md`: the claims and their verdicts in GitHub markdown, for CI job summaries.
//!
//! It is fed the same view as the HTML page, without charts; cells are escaped here because a
//! `|` or a newline inside a table cell would break the table.

use minijinja::{context, Environment, UndefinedBehavior};

use crate::view::Report;

const TEMPLATE: &str = include_str!("../templates/summary.md.j2");

/// Renders the summary.
pub fn render(report: &Report) -> String {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("cell", cell);
    env.add_template("summary.md.j2", TEMPLATE).expect("the embedded summary template parses");
    env.get_template("summary.md.j2")
        .and_then(|t| t.render(context! { r => report }))
        .expect("the embedded summary template renders any view")
}

/// Makes text safe inside a markdown table cell.
fn cell(text: String) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_escape_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc".to_string()), "a\\|b c");
    }
}
