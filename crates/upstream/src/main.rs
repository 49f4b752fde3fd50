//! `claimbench-upstream --port P [--host H]`: the upstream service on its own, for working on an
//! app by hand. `claimbench serve` and `claimbench verify` start it themselves.

use std::net::{IpAddr, SocketAddr};

fn main() {
    let mut host: IpAddr = IpAddr::from([127, 0, 0, 1]);
    let mut port: u16 = 0;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        let parsed = match (arg.as_str(), value.as_deref()) {
            ("--port", Some(v)) => v.parse().map(|p| port = p).map_err(|e| e.to_string()),
            ("--host", Some(v)) => v.parse().map(|h| host = h).map_err(|e| e.to_string()),
            _ => Err("usage: claimbench-upstream [--host 127.0.0.1] [--port PORT]".to_string()),
        };
        if let Err(e) = parsed {
            eprintln!("error: {arg}: {e}");
            std::process::exit(2);
        }
    }
    match claimbench_upstream::Upstream::start(SocketAddr::new(host, port), None) {
        Ok(upstream) => {
            println!("upstream listening on {}", upstream.url());
            // Runs until killed; the server thread does the work.
            loop {
                std::thread::park();
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
