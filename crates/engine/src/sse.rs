//! The worker loop of a server-sent-events subscriber (`/sse/ticks`): every connection of the
//! pool sends one GET of the plan's template and reads the event stream until the run ends. Every
//! event it receives is one delivery, recorded through the same collector as an HTTP response, so
//! the run's latency histogram is the fan-out latency over every subscriber.
//!
//! The contract's event is `id: N` then `data: {"seq":N,"sent_us":T,...}`, where T is the server's
//! Unix time in microseconds when its shared ticker fired (one machine, one clock). A delivery's
//! latency counts from T. Ids are judged per subscriber from the first one it receives (a
//! subscriber joins at the next tick): an id skipped and never received is a lost event, counted
//! and recorded as a failed delivery at the end, never dropped; an id that comes after a later
//! one is out of order, a second copy is a duplicate. A subscription the server ends or breaks
//! counts as one failed delivery and is opened again; what the subscriber missed meanwhile is
//! lost. Which phase a delivery belongs to is the pacer's, as for a closed-loop request: the phase
//! it arrives in.

use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::BodyExt;
use serde::Deserialize;

use crate::broadcast::{self, Arrival, Track};
use crate::collector::{ErrorClass, SequenceEvent};
use crate::connection::{self, classify, Connection};
use crate::pacer::Slot;
use crate::websocket;
use crate::worker::{build, status_error, wait_until, Ctx, VirtualConnection, CONNECT_BACKOFF};

/// The status a delivered event is counted under: the subscription's.
pub(crate) const SSE_STATUS: u16 = 200;
/// The longest event the contract sends (its `bytes` limit) with room for its `id:` line and
/// framing; a stream that piles up more without a blank line is not the contract's.
const MAX_EVENT_BYTES: usize = 65_536 + 1024;

/// The part of an event's data claimbench reads.
#[derive(Debug, Deserialize, PartialEq)]
struct Tick {
    seq: u64,
    sent_us: u64,
}

/// Whether a block carries an event at all: one of only comments (`: ping`, a keep-alive many
/// servers send) or a `retry:` is no event, and is skipped.
fn is_event(block: &str) -> bool {
    block.split('\n').any(|line| line.starts_with("data:") || line.starts_with("id:"))
}

/// What one event block said: its id and tick, or nothing usable.
fn parse_event(block: &str) -> Option<Tick> {
    let (mut id, mut data) = (None, None);
    for line in block.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(value) = line.strip_prefix("id:") {
            id = value.trim_start().parse::<u64>().ok();
        } else if let Some(value) = line.strip_prefix("data:") {
            data = Some(value.strip_prefix(' ').unwrap_or(value));
        }
    }
    let tick: Tick = serde_json::from_str(data?).ok()?;
    (id? == tick.seq).then_some(tick)
}

/// Where the first complete event in `buffer` ends (its blank line starts there).
fn event_end(buffer: &[u8]) -> Option<usize> {
    buffer.windows(2).position(|w| w == b"\n\n")
}

/// The Unix time of the run's start, in microseconds.
fn unix_micros_at(t0: Instant) -> u64 {
    let at = SystemTime::now() - t0.elapsed();
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros().min(u128::from(u64::MAX)) as u64)
}

/// One subscriber's state across its subscriptions.
struct Subscriber<'a> {
    ctx: &'a Ctx,
    vc: &'a mut VirtualConnection,
    /// Its ids, from the first event on.
    track: Option<Track>,
    seen: (u64, u64),
    opened: u64,
    unix_t0: u64,
    /// The run's end: its last phase's (an SSE plan always has a duration).
    end: Duration,
}

/// Why a subscription stopped reading.
enum Ended {
    /// The run is over: its end, the pacer's, or the stop signal.
    Run,
    /// The subscription failed or the server ended it.
    Broke(ErrorClass),
}

/// The loop of one subscriber: subscribe (again, after a failure) and read until the run ends,
/// then count what never came.
pub(crate) async fn subscriber_loop(ctx: Rc<Ctx>, mut vc: VirtualConnection) {
    if let Some(took) = vc.unrecorded_connect.take() {
        ctx.collector.borrow_mut().record_connect(took);
    }
    let opened = std::mem::take(&mut vc.unrecorded_opens);
    // The plan was refused without a duration, so its last phase ends.
    let Some(end) = ctx.pacer.borrow().end() else { return };
    let mut subscriber =
        Subscriber { ctx: &ctx, vc: &mut vc, track: None, seen: (0, 0), opened, unix_t0: unix_micros_at(ctx.t0), end };
    subscriber.run().await;
}

impl Subscriber<'_> {
    fn over(&self) -> bool {
        self.ctx.stopped() || self.ctx.elapsed() >= self.end
    }

    async fn run(&mut self) {
        let ctx = self.ctx;
        while !self.over() {
            let conn = match self.vc.conn.take() {
                Some(conn) => conn,
                None => {
                    let started = Instant::now();
                    let open = connection::open(ctx.addr, self.vc.counters.clone());
                    match tokio::time::timeout(ctx.timeout, open).await {
                        Ok(Ok(conn)) => {
                            ctx.collector.borrow_mut().record_connect(Some(started.elapsed()));
                            self.opened += 1;
                            conn
                        }
                        _ => {
                            ctx.collector.borrow_mut().record_connect(None);
                            self.fail(ErrorClass::Connect, 1);
                            wait_until(ctx, &self.vc.timer, ctx.elapsed() + CONNECT_BACKOFF).await;
                            continue;
                        }
                    }
                }
            };
            match self.subscribe(conn).await {
                Ended::Run => break,
                Ended::Broke(class) => {
                    if self.over() {
                        break;
                    }
                    self.fail(class, 1);
                    wait_until(ctx, &self.vc.timer, ctx.elapsed() + CONNECT_BACKOFF).await;
                }
            }
        }
        let lost = self.track.as_ref().map_or(0, |t| t.skipped());
        if lost > 0 {
            ctx.collector.borrow_mut().record_sequence(SequenceEvent::Lost, lost);
            self.fail(ErrorClass::Timeout, lost);
        }
    }

    /// One subscription: the GET, its status and content type, then every event until the run
    /// ends or the stream does.
    async fn subscribe(&mut self, conn: Connection) -> Ended {
        let ctx = self.ctx;
        let Connection { mut sender, mut driver } = conn;
        let template = ctx.first_template();
        let asked = driver.run(async {
            sender.ready().await?;
            sender.send_request(build(template)).await
        });
        let response = match tokio::time::timeout(ctx.timeout, asked).await {
            Ok(Ok(Ok(response))) => response,
            Ok(Ok(Err(e))) => return Ended::Broke(classify(&e)),
            Ok(Err(_)) => return Ended::Broke(ErrorClass::Reset),
            Err(_) => return Ended::Broke(ErrorClass::Timeout),
        };
        if let Some(class) = status_error(response.status().as_u16(), None) {
            return Ended::Broke(class);
        }
        let event_stream = response
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if !event_stream {
            return Ended::Broke(ErrorClass::BodyMismatch);
        }
        let mut body = response.into_body();
        let mut buffer = Vec::new();
        let end = tokio::time::sleep_until(tokio::time::Instant::from_std(ctx.t0 + self.end));
        tokio::pin!(end);
        loop {
            let frame = tokio::select! {
                biased;
                () = &mut end => return Ended::Run,
                () = ctx.stop.requested() => return Ended::Run,
                frame = driver.run(body.frame()) => frame,
            };
            match frame {
                Ok(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else { continue };
                    buffer.extend_from_slice(&data);
                    while let Some(end) = event_end(&buffer) {
                        let more = self.on_event(&buffer[..end]);
                        buffer.drain(..end + 2);
                        if !more {
                            return Ended::Run;
                        }
                    }
                    if buffer.len() > MAX_EVENT_BYTES {
                        ctx.collector.borrow_mut().record_sequence(SequenceEvent::Unexpected, 1);
                        return Ended::Broke(ErrorClass::BodyMismatch);
                    }
                }
                Ok(Some(Err(e))) => return Ended::Broke(classify(&e)),
                Ok(None) | Err(_) => return Ended::Broke(ErrorClass::Reset),
            }
        }
    }

    /// Records one event; `false` when the pacer says the run is over.
    fn on_event(&mut self, block: &[u8]) -> bool {
        let ctx = self.ctx;
        let now = ctx.elapsed();
        let text = std::str::from_utf8(block).ok();
        if text.is_some_and(|t| !is_event(t)) {
            return true;
        }
        let Some(slot) = ctx.pacer.borrow_mut().next(now) else { return false };
        let Some(tick) = text.and_then(parse_event) else {
            ctx.collector.borrow_mut().record_sequence(SequenceEvent::Unexpected, 1);
            return true;
        };
        let track = self.track.get_or_insert_with(|| Track::starting_at(tick.seq));
        match track.arrive(tick.seq) {
            Arrival::Duplicate => {
                ctx.collector.borrow_mut().record_sequence(SequenceEvent::Duplicated, 1);
                return true;
            }
            Arrival::OutOfOrder => ctx.collector.borrow_mut().record_sequence(SequenceEvent::OutOfOrder, 1),
            Arrival::InOrder => {}
        }
        let sent = Duration::from_micros(tick.sent_us.saturating_sub(self.unix_t0));
        let delivery = Slot { intended: sent, phase: slot.phase, seq: tick.seq };
        let opened = std::mem::take(&mut self.opened);
        websocket::record(
            ctx,
            self.vc,
            &mut self.seen,
            delivery,
            Some(sent),
            now,
            Some(SSE_STATUS),
            None,
            None,
            false,
            opened,
        );
        true
    }

    /// Records `n` failed deliveries in the run's last phase, the measurement.
    fn fail(&mut self, class: ErrorClass, n: u64) {
        broadcast::fail(self.ctx, self.vc, &mut self.seen, class, n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_back_with_its_id_and_only_when_the_id_matches() {
        let block = "id: 41\ndata: {\"seq\":41,\"sent_us\":1700000000000000,\"pad\":\"xxxx\"}";
        assert_eq!(parse_event(block), Some(Tick { seq: 41, sent_us: 1_700_000_000_000_000 }));
        assert_eq!(parse_event("id:7\r\ndata:{\"seq\":7,\"sent_us\":3}\r"), Some(Tick { seq: 7, sent_us: 3 }));
        assert_eq!(parse_event("id: 8\ndata: {\"seq\":7,\"sent_us\":3}"), None, "an id that is not its seq");
        assert_eq!(parse_event("data: {\"seq\":7,\"sent_us\":3}"), None, "no id");
        assert_eq!(parse_event("id: 7\ndata: not json"), None);
        assert_eq!(parse_event(": a comment"), None);
        assert!(!is_event(": ping") && !is_event("retry: 1000\n: ping"), "keep-alives are no events");
        assert!(is_event("data: x") && is_event(": c\nid: 3"));
    }

    #[test]
    fn an_event_ends_at_its_blank_line_and_a_partial_one_waits() {
        let buffer = b"id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\nda";
        assert_eq!(event_end(buffer), Some(13));
        assert_eq!(event_end(&buffer[15..]), Some(13));
        assert_eq!(event_end(&buffer[30..]), None, "no blank line yet");
    }
}
