//! What a streamed response shows beside its latency: the time to its first byte (send to
//! headers) and every gap between two pieces of its body, against a target that streams on a
//! known schedule, and nothing of the kind for responses that come in one piece.

mod support;

use std::time::Duration;

use support::{closed_loop, load_lock, run_to_end, Behaviour, TestServer};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_streamed_response_shows_its_first_byte_and_every_gap_between_its_pieces() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Stream { first_byte: ms(40), pieces: 4, gap: ms(50) });
    let mut plan = closed_loop(&server.url(), 2, 30.0);
    plan.max_requests = Some(6);
    let r = run_to_end(&plan);
    assert_eq!((r.requests, r.responses), (6, 6), "{:?}", r.errors);
    let first_byte = r.first_byte.expect("an HTTP run times its first bytes");
    assert_eq!(first_byte.count, 6);
    // The server sleeps 40 ms before its headers; the bound leaves room for a slow machine.
    assert!(first_byte.min_us >= 40_000.0 && first_byte.max_us < 2_000_000.0, "{first_byte:?}");
    let gaps = r.chunk_gaps.expect("a streamed body has gaps between its pieces");
    // Four pieces make three gaps per response, however the pieces are read.
    assert_eq!(gaps.count, 18, "{gaps:?}");
    assert!(gaps.p50_us >= 45_000.0 && gaps.max_us < 2_000_000.0, "{gaps:?}");
    // Latency covers the whole body: headers, then three gaps.
    assert!(r.latency_uncorrected.min_us >= 40_000.0 + 3.0 * 45_000.0, "{:?}", r.latency_uncorrected);
}

#[test]
fn a_response_in_one_piece_has_a_first_byte_but_no_gaps() {
    let _guard = load_lock();
    let server = TestServer::start(Behaviour::Delay(ms(20)));
    let mut plan = closed_loop(&server.url(), 2, 30.0);
    plan.max_requests = Some(10);
    let r = run_to_end(&plan);
    assert_eq!(r.responses, 10);
    let first_byte = r.first_byte.expect("an HTTP run times its first bytes");
    assert_eq!(first_byte.count, 10);
    assert!(first_byte.min_us >= 20_000.0, "{first_byte:?}");
    assert_eq!(r.chunk_gaps, None, "a 5-byte body comes in one piece");
}
