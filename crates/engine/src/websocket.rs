//! The worker loop's exchange for `ws://` targets: one WebSocket message per pacer slot, echoed
//! back by the server and matched by its sequence number.
//!
//! Each virtual connection upgrades once (the connect-plus-handshake time is recorded apart) and
//! keeps up to `in_flight` messages outstanding. A message is a text frame whose first 16 bytes
//! are its sequence number in hex, padded to the plan's size. It takes its slot from the same
//! pacer as an HTTP request, and its outcome goes to the same collector: latency from the intended
//! send time (corrected) and from the actual send (uncorrected), the send lag, late sends. What the
//! sequence numbers show is counted, never dropped: an echo that comes after the echo of a later
//! message is out of order, a second echo of one message is a duplicate, a message not echoed within the
//! timeout (or cut off by a broken connection) is lost. Pacing, recording and the result are the
//! worker's, the collector's and the runner's, as for HTTP.

use std::collections::{BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::collector::{ErrorClass, Outcome, SequenceEvent};
use crate::connection::{Counted, IoCounters};
use crate::pacer::Slot;
use crate::plan::WsOptions;
use crate::worker::{wait_until, Ctx, VirtualConnection, CONNECT_BACKOFF};

/// An upgraded connection, its bytes counted.
pub(crate) type WsConnection = WebSocketStream<Counted>;

/// The status an echoed message is counted under: the connection's upgrade.
pub(crate) const ECHO_STATUS: u16 = 101;
/// Bytes read from the socket at a time (tungstenite grows the buffer for a longer frame).
const READ_BUFFER: usize = 4096;
/// How long the end of a run waits for the server to answer the close.
const CLOSE_WAIT: Duration = Duration::from_millis(200);

/// Connects and upgrades; the error class of whatever failed.
pub(crate) async fn open(
    addr: SocketAddr,
    authority: &str,
    path: &str,
    counters: Rc<IoCounters>,
) -> Result<WsConnection, ErrorClass> {
    let stream = TcpStream::connect(addr).await.map_err(|_| ErrorClass::Connect)?;
    stream.set_nodelay(true).map_err(|_| ErrorClass::Connect)?;
    let request = format!("ws://{authority}{path}").into_client_request().map_err(|_| ErrorClass::Other)?;
    // tungstenite's default buffers are 128 KiB each way per connection: at 1,000 connections that
    // was 140 KB of RSS per connection. Small reads, and frames written as they are sent.
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER).write_buffer_size(0);
    match tokio_tungstenite::client_async_with_config(request, Counted::new(stream, counters), Some(config)).await {
        Ok((ws, _response)) => Ok(ws),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            Err(crate::worker::status_error(status, None).unwrap_or(ErrorClass::Other))
        }
        Err(_) => Err(ErrorClass::Connect),
    }
}

/// A message on its way: what its outcome needs once the echo (or the timeout) comes.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    seq: u64,
    slot: Slot,
    sent: Duration,
    lag: Option<Duration>,
    late: bool,
    opened: u64,
}

/// The messages of one connection: what is in flight, in send order, and what the echoes showed.
#[derive(Debug, Default)]
struct Sequencer {
    next_seq: u64,
    in_flight: VecDeque<InFlight>,
    /// Sequence numbers given up on (timed out), so a late echo is not taken for a duplicate.
    given_up: BTreeSet<u64>,
    /// The highest sequence number echoed so far.
    highest_echoed: Option<u64>,
}

/// What an incoming text message was.
#[derive(Debug, PartialEq)]
enum Echo {
    /// The echo of this in-flight message; `late_in_order` when a later message was echoed
    /// before it (a lost message ahead of it does not make it out of order).
    Of { message: InFlightIndex, out_of_order: bool },
    /// A message already echoed.
    Duplicate,
    /// The late echo of a message already counted lost.
    Late,
    /// No echo of anything this connection sent.
    Unexpected,
}

#[derive(Debug, PartialEq, Clone, Copy)]
struct InFlightIndex(usize);

impl Sequencer {
    fn classify(&self, payload: &str, message_bytes: usize) -> Echo {
        let Some(seq) = parse_seq(payload, message_bytes) else {
            return Echo::Unexpected;
        };
        if let Some(i) = self.in_flight.iter().position(|m| m.seq == seq) {
            let out_of_order = self.highest_echoed.is_some_and(|h| seq < h);
            return Echo::Of { message: InFlightIndex(i), out_of_order };
        }
        if self.given_up.contains(&seq) {
            Echo::Late
        } else if seq < self.next_seq {
            Echo::Duplicate
        } else {
            Echo::Unexpected
        }
    }
}

/// The text of message `seq`: the sequence number in 16 hex digits, padded with `.` to `bytes`.
fn message_text(seq: u64, bytes: usize) -> String {
    let mut text = format!("{seq:016x}");
    text.extend(std::iter::repeat_n('.', bytes.saturating_sub(text.len())));
    text
}

/// The sequence number of an echo, if it is one of ours: the right length, 16 hex digits, then
/// padding.
fn parse_seq(text: &str, bytes: usize) -> Option<u64> {
    if text.len() != bytes {
        return None;
    }
    let (digits, padding) = text.split_at_checked(16)?;
    if !padding.bytes().all(|b| b == b'.') {
        return None;
    }
    u64::from_str_radix(digits, 16).ok()
}

/// How one connected session ended.
enum SessionEnd {
    /// The pacer has no more slots (or the run was stopped) and nothing is in flight.
    Done,
    /// The connection broke; the loop reconnects.
    Broken,
}

/// The worker loop of one WebSocket connection: (re)connect, then send and match echoes until
/// the pacer runs out.
pub(crate) async fn connection_loop(ctx: Rc<Ctx>, mut vc: VirtualConnection, options: WsOptions) {
    if let Some(took) = vc.unrecorded_connect.take() {
        ctx.collector.borrow_mut().record_connect(took);
    }
    let mut pending: Option<Slot> = None;
    let mut opened = std::mem::take(&mut vc.unrecorded_opens);
    let mut seen = (0, 0);
    loop {
        if ctx.stopped() {
            break;
        }
        let ws = match vc.ws.take() {
            Some(ws) => ws,
            None => {
                // A reconnect waits for the slot it will serve, so a refusing server is tried at
                // the plan's pace and each failed slot is counted once, as for HTTP.
                let slot = match pending.take() {
                    Some(slot) => slot,
                    None => match ctx.pacer.borrow_mut().next(ctx.elapsed()) {
                        Some(slot) => slot,
                        None => break,
                    },
                };
                if !wait_until(&ctx, &vc.timer, slot.intended).await {
                    break;
                }
                let started = Instant::now();
                let open = open(ctx.addr, &ctx.authority, &ctx.path, vc.counters.clone());
                match tokio::time::timeout(ctx.timeout, open).await {
                    Ok(Ok(ws)) => {
                        ctx.collector.borrow_mut().record_connect(Some(started.elapsed()));
                        opened += 1;
                        pending = Some(slot);
                        ws
                    }
                    failed => {
                        ctx.collector.borrow_mut().record_connect(None);
                        let class = match failed {
                            Ok(Err(class)) => class,
                            _ => ErrorClass::Timeout,
                        };
                        let ended = ctx.elapsed();
                        record(&ctx, &vc, &mut seen, slot, None, ended, None, Some(class), None, false, 0);
                        if !ctx.open_loop {
                            tokio::time::sleep(CONNECT_BACKOFF).await;
                        }
                        continue;
                    }
                }
            }
        };
        let (sink, stream) = ws.split();
        let session = Session { ctx: &ctx, vc: &vc, options, sink, stream, seq: Sequencer::default() };
        match session.run(&mut pending, &mut opened, &mut seen).await {
            SessionEnd::Done => break,
            SessionEnd::Broken => {}
        }
    }
}

/// One connected WebSocket and the messages sent on it.
struct Session<'a> {
    ctx: &'a Ctx,
    vc: &'a VirtualConnection,
    options: WsOptions,
    sink: SplitSink<WsConnection, Message>,
    stream: SplitStream<WsConnection>,
    seq: Sequencer,
}

impl Session<'_> {
    async fn run(mut self, pending: &mut Option<Slot>, opened: &mut u64, seen: &mut (u64, u64)) -> SessionEnd {
        let ctx = self.ctx;
        let deadline = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(deadline);
        // When the window last had room; it has had room since the start.
        let mut free_since = Duration::ZERO;
        let mut out_of_slots = false;
        loop {
            if ctx.stopped() {
                // In-flight messages of a stopped run are neither answered nor lost: left out.
                self.close().await;
                return SessionEnd::Done;
            }
            if pending.is_none() && !out_of_slots && self.seq.in_flight.len() < self.options.in_flight {
                *pending = ctx.pacer.borrow_mut().next(ctx.elapsed());
                out_of_slots = pending.is_none();
            }
            if pending.is_none() && self.seq.in_flight.is_empty() {
                self.close().await;
                return SessionEnd::Done;
            }
            let window_open = self.seq.in_flight.len() < self.options.in_flight;
            let intended = pending.map(|s| s.intended).filter(|_| window_open);
            let oldest = self.seq.in_flight.front().map(|m| m.sent + ctx.timeout);
            if let Some(at) = oldest {
                deadline.as_mut().reset(tokio::time::Instant::from_std(ctx.t0 + at));
            }
            tokio::select! {
                biased;
                frame = self.stream.next() => {
                    let full = !window_open;
                    match frame {
                        Some(Ok(Message::Text(text))) => self.on_text(&text, seen),
                        Some(Ok(Message::Binary(_))) => {
                            ctx.collector.borrow_mut().record_sequence(SequenceEvent::Unexpected, 1);
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                        Some(Ok(Message::Close(_)) | Err(_)) | None => {
                            self.give_up_all(ErrorClass::Reset, seen);
                            return SessionEnd::Broken;
                        }
                    }
                    if full && self.seq.in_flight.len() < self.options.in_flight {
                        free_since = ctx.elapsed();
                    }
                }
                go = wait_until(ctx, &self.vc.timer, intended.unwrap_or_default()), if intended.is_some() => {
                    if !go {
                        continue;
                    }
                    let slot = pending.take().expect("a slot is pending when its wait ends");
                    let late = ctx.open_loop && free_since > slot.intended;
                    let lag = (ctx.open_loop && !late).then(|| ctx.elapsed().saturating_sub(slot.intended));
                    let seq = self.seq.next_seq;
                    let sent = ctx.elapsed();
                    self.seq.next_seq += 1;
                    let message = InFlight { seq, slot, sent, lag, late, opened: std::mem::take(opened) };
                    self.seq.in_flight.push_back(message);
                    if self.sink.send(Message::text(message_text(seq, self.options.message_bytes))).await.is_err() {
                        self.give_up_all(ErrorClass::Reset, seen);
                        return SessionEnd::Broken;
                    }
                }
                () = &mut deadline, if oldest.is_some() => {
                    let message = self.seq.in_flight.pop_front().expect("a message is in flight when its deadline ends");
                    self.seq.given_up.insert(message.seq);
                    ctx.collector.borrow_mut().record_sequence(SequenceEvent::Lost, 1);
                    self.finish(message, None, Some(ErrorClass::Timeout), seen);
                }
            }
        }
    }

    fn on_text(&mut self, text: &str, seen: &mut (u64, u64)) {
        let ctx = self.ctx;
        match self.seq.classify(text, self.options.message_bytes) {
            Echo::Of { message, out_of_order } => {
                if out_of_order {
                    ctx.collector.borrow_mut().record_sequence(SequenceEvent::OutOfOrder, 1);
                }
                let message = self.seq.in_flight.remove(message.0).expect("the index was just found");
                self.seq.highest_echoed = self.seq.highest_echoed.max(Some(message.seq));
                self.finish(message, Some(ECHO_STATUS), None, seen);
            }
            Echo::Duplicate => ctx.collector.borrow_mut().record_sequence(SequenceEvent::Duplicated, 1),
            Echo::Late => {}
            Echo::Unexpected => ctx.collector.borrow_mut().record_sequence(SequenceEvent::Unexpected, 1),
        }
    }

    /// Every message still in flight is lost with the connection.
    fn give_up_all(&mut self, class: ErrorClass, seen: &mut (u64, u64)) {
        let lost = self.seq.in_flight.len() as u64;
        if lost > 0 {
            self.ctx.collector.borrow_mut().record_sequence(SequenceEvent::Lost, lost);
        }
        while let Some(message) = self.seq.in_flight.pop_front() {
            self.finish(message, None, Some(class), seen);
        }
    }

    fn finish(&self, m: InFlight, status: Option<u16>, error: Option<ErrorClass>, seen: &mut (u64, u64)) {
        let ended = self.ctx.elapsed();
        record(self.ctx, self.vc, seen, m.slot, Some(m.sent), ended, status, error, m.lag, m.late, m.opened);
    }

    /// Ends the session politely: a close 1000, and a short wait for the server's answer.
    async fn close(&mut self) {
        let _ = tokio::time::timeout(CLOSE_WAIT, async {
            if self.sink.close().await.is_ok() {
                while let Some(Ok(_)) = self.stream.next().await {}
            }
        })
        .await;
    }
}

/// Ends a whole (unsplit) connection politely: a close 1000, and a short wait for the answer.
pub(crate) async fn close(ws: &mut WsConnection) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        if ws.close(None).await.is_ok() {
            while let Some(Ok(_)) = ws.next().await {}
        }
    })
    .await;
}

/// Hands one message's outcome to the collector, with the bytes moved since the last one.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record(
    ctx: &Ctx,
    vc: &VirtualConnection,
    seen: &mut (u64, u64),
    slot: Slot,
    sent: Option<Duration>,
    ended: Duration,
    status: Option<u16>,
    error: Option<ErrorClass>,
    lag: Option<Duration>,
    late: bool,
    connections_opened: u64,
) {
    let (read, written) = (vc.counters.read.get(), vc.counters.written.get());
    let outcome = Outcome {
        phase: slot.phase,
        intended: slot.intended,
        sent,
        ended,
        status,
        error,
        lag,
        late,
        bytes_in: read - seen.0,
        bytes_out: written - seen.1,
        connections_opened,
        first_byte: None,
    };
    *seen = (read, written);
    ctx.record(&outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_flight(seq: u64) -> InFlight {
        let slot = Slot { intended: Duration::ZERO, phase: 0, seq };
        InFlight { seq, slot, sent: Duration::ZERO, lag: None, late: false, opened: 0 }
    }

    #[test]
    fn a_message_carries_its_sequence_number_and_is_padded_to_size() {
        let text = message_text(255, 20);
        assert_eq!(text, "00000000000000ff....");
        assert_eq!(parse_seq(&text, 20), Some(255));
        assert_eq!(parse_seq(&text, 21), None, "a truncated or padded echo is not ours");
        assert_eq!(parse_seq("00000000000000ffxxxx", 20), None);
        assert_eq!(parse_seq("hello", 5), None);
    }

    #[test]
    fn echoes_are_told_apart_by_sequence_number() {
        let mut s = Sequencer { next_seq: 5, ..Sequencer::default() };
        s.in_flight.extend([in_flight(2), in_flight(3)]);
        s.given_up.insert(1);
        s.highest_echoed = Some(4);
        let of = |seq| s.classify(&message_text(seq, 16), 16);
        assert_eq!(of(2), Echo::Of { message: InFlightIndex(0), out_of_order: true }, "4 came before 2");
        assert_eq!(of(3), Echo::Of { message: InFlightIndex(1), out_of_order: true });
        assert_eq!(of(0), Echo::Duplicate, "0 was answered already");
        assert_eq!(of(1), Echo::Late, "1 was given up on");
        assert_eq!(of(9), Echo::Unexpected, "9 was never sent");
        assert_eq!(s.classify("garbage", 16), Echo::Unexpected);
        s.highest_echoed = Some(0);
        let of = |seq| s.classify(&message_text(seq, 16), 16);
        assert_eq!(of(3), Echo::Of { message: InFlightIndex(1), out_of_order: false }, "a lost 2 ahead is no reorder");
    }
}
