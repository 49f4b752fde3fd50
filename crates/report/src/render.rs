//! The one template environment: every page (the run report, the compare page, the history
//! index) and every markdown text, rendered from the embedded minijinja templates and the one
//! stylesheet.
//!
//! Templates and CSS are compiled in, so pages render anywhere and need nothing but themselves:
//! no scripts, no fonts, no network. HTML templates escape every value; only the SVG charts are
//! inserted as markup. Each template gets its view as `v` and the stylesheet as `css`; views come
//! already formatted, so templates hold only loops and ifs.

use std::sync::OnceLock;

use minijinja::{context, Environment, UndefinedBehavior, Value};
use serde::Serialize;

use crate::error::ReportError;

const STYLESHEET: &str = include_str!("../templates/report.css");

/// Every template, by the name pages render it with.
const TEMPLATES: [(&str, &str); 5] = [
    ("report.html.j2", include_str!("../templates/report.html.j2")),
    ("summary.md.j2", include_str!("../templates/summary.md.j2")),
    ("compare.html.j2", include_str!("../templates/compare.html.j2")),
    ("compare.md.j2", include_str!("../templates/compare.md.j2")),
    ("index.html.j2", include_str!("../templates/index.html.j2")),
];

/// Renders the template `name` with `view` as `v`.
pub fn render(name: &'static str, view: &impl Serialize) -> Result<String, ReportError> {
    let env = environment()?;
    let template = env.get_template(name)?;
    Ok(template.render(context! { v => view, css => STYLESHEET })?)
}

fn environment() -> Result<&'static Environment<'static>, ReportError> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    if let Some(env) = ENV.get() {
        return Ok(env);
    }
    let mut env = Environment::new();
    // A misspelt field must fail the tests, not render as an empty cell.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.add_filter("code", inline_code);
    env.add_filter("cell", cell);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)?;
    }
    Ok(ENV.get_or_init(|| env))
}

/// Escapes text and turns `backticked` spans (as claims and experiments are written) into
/// `<code>`.
fn inline_code(text: String) -> Value {
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split('`').enumerate() {
        let escaped = escape(part);
        // Odd parts sit between backticks; a lone trailing backtick leaves the rest as text.
        if i % 2 == 1 && text.matches('`').count() > i {
            out.push_str("<code>");
            out.push_str(&escaped);
            out.push_str("</code>");
        } else {
            if i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&escaped);
        }
    }
    Value::from_safe_string(out)
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

/// Makes text safe inside a markdown table cell: a `|` or a newline would break the table.
fn cell(text: String) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code_and_the_rest_is_escaped() {
        let html = inline_code("`/io/upstream?ms=20` & <b>".to_string());
        assert_eq!(html.to_string(), "<code>/io/upstream?ms=20</code> &amp; &lt;b&gt;");
    }

    #[test]
    fn an_unpaired_backtick_stays_text() {
        assert_eq!(inline_code("a `b".to_string()).to_string(), "a `b");
    }

    #[test]
    fn cells_escape_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc".to_string()), "a\\|b c");
    }

    #[test]
    fn every_template_parses() {
        environment().expect("the embedded templates parse");
    }
}
