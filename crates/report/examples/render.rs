//! Renders a `results.json` into a folder without the CLI:
//! `cargo run -p claimbench-report --example render -- RESULTS_JSON OUT_DIR`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [results, out] = args.as_slice() else {
        eprintln!("usage: render RESULTS_JSON OUT_DIR");
        std::process::exit(2);
    };
    let written = claimbench_report::read_results(std::path::Path::new(results))
        .and_then(|r| claimbench_report::write_report(&r, std::path::Path::new(out)));
    match written {
        Ok(w) => println!("wrote {} and {}", w.html.display(), w.summary.display()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
