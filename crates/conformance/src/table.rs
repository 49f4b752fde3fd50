//! The `verify` table: one row per example, one column per stack, and the differences below it.

use std::collections::BTreeMap;

use crate::check::CheckResult;

/// Renders results as a text table followed by every failure in full.
pub fn render_table(results: &[CheckResult]) -> String {
    let mut stacks: Vec<&str> = Vec::new();
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut cells: BTreeMap<(String, String, &str), bool> = BTreeMap::new();
    for r in results {
        if !stacks.contains(&r.stack.as_str()) {
            stacks.push(&r.stack);
        }
        let row = (r.endpoint.clone(), r.example.clone());
        if !rows.contains(&row) {
            rows.push(row.clone());
        }
        cells.insert((row.0, row.1, r.stack.as_str()), r.passed());
    }
    let width = rows.iter().map(|(e, x)| e.len() + x.len() + 3).max().unwrap_or(10).max(10);
    let mut out = format!("{:width$}", "endpoint / example");
    for s in &stacks {
        out.push_str(&format!("  {s:>10}"));
    }
    out.push('\n');
    for (endpoint, example) in &rows {
        out.push_str(&format!("{:width$}", format!("{endpoint} · {example}")));
        for s in &stacks {
            let cell = match cells.get(&(endpoint.clone(), example.clone(), *s)) {
                Some(true) => "pass",
                Some(false) => "FAIL",
                None => "-",
            };
            out.push_str(&format!("  {cell:>10}"));
        }
        out.push('\n');
    }
    let failed: Vec<&CheckResult> = results.iter().filter(|r| !r.passed()).collect();
    out.push_str(&format!(
        "\n{} checks, {} passed, {} failed\n",
        results.len(),
        results.len() - failed.len(),
        failed.len()
    ));
    for r in failed {
        out.push_str(&format!("\n{} · {} {}:\n", r.stack, r.endpoint, r.example));
        for f in &r.failures {
            out.push_str(&format!("  - {f}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_marked_and_spelled_out() {
        let results = vec![
            CheckResult {
                stack: "express".into(),
                endpoint: "GET /json".into(),
                example: "json".into(),
                failures: vec![],
            },
            CheckResult {
                stack: "fastapi".into(),
                endpoint: "GET /json".into(),
                example: "json".into(),
                failures: vec!["status: expected 200, got 500".into()],
            },
        ];
        let table = render_table(&results);
        assert!(table.contains("pass"));
        assert!(table.contains("FAIL"));
        assert!(table.contains("2 checks, 1 passed, 1 failed"));
        assert!(table.contains("fastapi · GET /json json:\n  - status: expected 200, got 500"));
    }
}
