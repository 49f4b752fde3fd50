//! The rendered report in a real browser: headless Chromium lays it out, and every chart and the
//! claims table must take up space, with nothing on the console.
//!
//! The report itself has no scripts. The test renders a copy with one injected script that
//! measures the elements after load and writes the result into the DOM, which `--dump-dom`
//! prints. Without Chromium the test skips loudly, unless `CLAIMBENCH_REQUIRE_CHROMIUM=1` (set
//! by CI), where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use claimbench_model::run::RunResults;
use claimbench_report::render_html;

const PROBE: &str = r#"<script>
window.__claimbenchErrors = [];
window.addEventListener('error', function (e) { window.__claimbenchErrors.push('error: ' + e.message); }, true);
['error', 'warn'].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    window.__claimbenchErrors.push(level + ': ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
});
window.addEventListener('load', function () {
  document.querySelectorAll('details').forEach(function (d) { d.open = true; });
  var box = function (el) { var r = el.getBoundingClientRect(); return [r.width, r.height]; };
  var table = document.getElementById('claims-table');
  var out = {
    table: table ? box(table) : null,
    rows: table ? table.querySelectorAll('tbody tr').length : 0,
    svgs: Array.prototype.map.call(document.querySelectorAll('svg'), function (s) {
      return [s.getAttribute('data-chart') || '?'].concat(box(s));
    }),
    errors: window.__claimbenchErrors
  };
  var pre = document.createElement('pre');
  pre.id = 'claimbench-probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"#;

/// Finds a Chromium: `CLAIMBENCH_CHROMIUM`, else the usual names on `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CLAIMBENCH_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        ["chromium", "chromium-browser", "google-chrome"].iter().map(|name| dir.join(name)).find(|p| p.is_file())
    })
}

/// Runs Chromium on `page`, returning (stdout, stderr); kills it after `limit`.
fn run_chromium(browser: &Path, page: &Path, profile: &Path, limit: Duration) -> (String, String) {
    let url = format!("file://{}", page.display());
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--window-size=1280,2000",
            "--virtual-time-budget=5000",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    // Read both pipes on threads so a chatty browser cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).ok();
        s
    });
    let err_thread = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).ok();
        s
    });
    let started = Instant::now();
    loop {
        if child.try_wait().expect("chromium can be waited for").is_some() {
            break;
        }
        if started.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (out_thread.join().unwrap(), err_thread.join().unwrap())
}

/// The probe's JSON from the dumped DOM.
fn probe_result(dom: &str) -> serde_json::Value {
    let start = dom
        .find("<pre id=\"claimbench-probe\">")
        .unwrap_or_else(|| panic!("the probe did not run; the DOM was:\n{}", tail(dom)));
    let rest = &dom[start + "<pre id=\"claimbench-probe\">".len()..];
    let text = &rest[..rest.find("</pre>").expect("the probe's element closes")];
    let json = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&");
    serde_json::from_str(&json).expect("the probe wrote JSON")
}

fn tail(text: &str) -> &str {
    let cut = text.len().saturating_sub(2_000);
    let cut = (cut..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(0);
    &text[cut..]
}

#[test]
fn the_report_renders_in_chromium_with_every_chart_visible_and_no_console_errors() {
    let Some(browser) = chromium() else {
        let message = "Chromium was not found, so the report was not checked in a real browser. \
                       Install it with `apt-get install chromium` (or set CLAIMBENCH_CHROMIUM).";
        if std::env::var("CLAIMBENCH_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("{message} CLAIMBENCH_REQUIRE_CHROMIUM=1 makes this a failure.");
        }
        // Straight to stderr: the test harness captures `eprintln!` of passing tests.
        let ruler = "=".repeat(78);
        let _ = writeln!(std::io::stderr(), "\n{ruler}\nSKIPPED: {message}\n{ruler}\n");
        return;
    };
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/results/scripted-run.json");
    let results = RunResults::from_json(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    let html = render_html(&results).unwrap();
    let charts_rendered = html.matches("data-chart=\"").count();
    assert!(charts_rendered >= 10, "only {charts_rendered} charts rendered");

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("index.html");
    let probed = html.replacen("<head>", &format!("<head>\n{PROBE}"), 1);
    std::fs::write(&page, probed).unwrap();
    let (dom, stderr) = run_chromium(&browser, &page, &dir.path().join("profile"), Duration::from_secs(120));

    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "the console was not quiet:\n{}", console.join("\n"));
    let probe = probe_result(&dom);
    assert_eq!(probe["errors"], serde_json::json!([]), "page errors");

    let table = probe["table"].as_array().expect("the claims table is in the page");
    assert!(
        table[0].as_f64().unwrap() > 300.0 && table[1].as_f64().unwrap() > 100.0,
        "the claims table is {table:?} px"
    );
    let rows = probe["rows"].as_u64().unwrap() as usize;
    let expected_rows: usize = results.claims.iter().map(|c| 1 + c.sub_verdicts.len()).sum();
    assert_eq!(rows, expected_rows, "claims table rows");

    let svgs = probe["svgs"].as_array().unwrap();
    assert_eq!(svgs.len(), charts_rendered, "every chart is an <svg> in the page");
    for svg in svgs {
        let (w, h) = (svg[1].as_f64().unwrap(), svg[2].as_f64().unwrap());
        assert!(w > 100.0 && h > 100.0, "chart {} is {w}x{h} px", svg[0]);
    }
}
