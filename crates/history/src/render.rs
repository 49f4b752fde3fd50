//! The templates: the comparison as markdown and HTML, and the history index page.
//!
//! Templates and the stylesheet are compiled in, so pages render anywhere and need nothing but
//! themselves: no scripts, no fonts, no network. HTML templates escape every value; only the SVG
//! charts are inserted as markup. Markdown cells have their `|` escaped by the `cell` filter.

use minijinja::{context, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::HistoryError;

const COMPARE_MD: &str = include_str!("../templates/compare.md.j2");
const COMPARE_HTML: &str = include_str!("../templates/compare.html.j2");
const INDEX_HTML: &str = include_str!("../templates/index.html.j2");
const STYLESHEET: &str = include_str!("../templates/history.css");

/// Renders `template` (one of the names above) with `view` as `v` and the stylesheet as `css`.
pub fn render(template: &'static str, view: &impl Serialize) -> Result<String, HistoryError> {
    let err = |source| HistoryError::Template { template, source };
    let mut env = Environment::new();
    // A misspelt field must fail the tests, not render as an empty cell.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("cell", cell);
    env.add_template("compare.md.j2", COMPARE_MD).map_err(err)?;
    env.add_template("compare.html.j2", COMPARE_HTML).map_err(err)?;
    env.add_template("index.html.j2", INDEX_HTML).map_err(err)?;
    env.get_template(template).and_then(|t| t.render(context! { v => view, css => STYLESHEET })).map_err(err)
}

/// A markdown table cell: pipes escaped, line breaks flattened.
fn cell(text: String) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}
