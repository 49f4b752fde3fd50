//! Renders a `results.json` into a folder without the CLI:
//! `cargo run -p claimbench-report --example render -- RESULTS_JSON OUT_DIR`.

use std::path::Path;

use claimbench_model::run::RunResults;
use claimbench_report::write_report;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results, out] = args.as_slice() else {
        eprintln!("usage: render RESULTS_JSON OUT_DIR");
        std::process::exit(2);
    };
    let written = std::fs::read_to_string(results)
        .map_err(|e| format!("cannot read {results}: {e}"))
        .and_then(|text| RunResults::from_json(&text).map_err(|e| format!("{results}: {e}")))
        .and_then(|r| write_report(&r, Path::new(out)).map_err(|e| e.to_string()));
    match written {
        Ok(w) => println!("wrote {} and {}", w.html.display(), w.summary.display()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
