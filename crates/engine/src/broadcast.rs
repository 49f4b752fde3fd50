//! The worker loop's exchange for a broadcast room (`/ws/room`): every connection of the pool is
//! a member of one room, the first `senders` members also send, and every member records every
//! message it receives as one delivery.
//!
//! A sender takes its slots from the same pacer as an HTTP request and sends the contract's
//! message, `{"from":ID,"seq":N,"sent_us":T,...}`, with the slot's intended time and phase in it.
//! A receiver records the delivery through the same collector: latency from the intended send
//! time (corrected) and from the actual send (uncorrected), so the run's latency histogram is the
//! fan-out latency over every receiver. A sender's own copy carries its send lag. Sequence numbers
//! are judged per sender: a message that comes after a later one of the same sender is out of
//! order, a second copy is a duplicate. Once every sender is done, each member waits until it has
//! everything the senders sent, or until the timeout has passed since the last send; what is
//! still missing then is lost, counted and recorded as a failed delivery, never dropped. A member
//! whose connection breaks stays in the count and loses everything sent after the break.
//!
//! The senders' totals live on the worker ([`Board`]), so a broadcast runs on one generator
//! thread (the plan checks it).

use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;

use crate::collector::{ErrorClass, SequenceEvent};
use crate::pacer::Slot;
use crate::plan::WsOptions;
use crate::websocket::{self, WsConnection};
use crate::worker::{wait_until, Ctx, VirtualConnection};

/// What the senders of one worker's room have done: the members' yardstick for losses.
#[derive(Debug, Default)]
pub(crate) struct Board {
    /// Messages sent by each sender, by member index.
    pub sent: Vec<u64>,
    /// Senders that will send nothing more.
    pub senders_done: usize,
    /// When the last message was sent.
    pub last_send: Duration,
}

impl Board {
    pub fn new(senders: usize) -> Board {
        Board { sent: vec![0; senders], senders_done: 0, last_send: Duration::ZERO }
    }

    fn all_sent(&self) -> bool {
        self.senders_done == self.sent.len()
    }
}

/// The header every broadcast message carries. `from`, `seq` and `sent_us` are the contract's;
/// `intended_us` (the slot's intended time) and `phase` are claimbench's own, so a receiver can
/// record the delivery as the sender would have recorded a request.
#[derive(Debug, Deserialize, PartialEq)]
struct Header {
    from: usize,
    seq: u64,
    sent_us: u64,
    intended_us: u64,
    phase: usize,
}

/// The text of one message, padded with `.` inside its `pad` field to `bytes` (the header never
/// exceeds [`crate::plan::WS_BROADCAST_MIN_BYTES`], which the plan checks `bytes` against).
fn message_text(h: &Header, bytes: usize) -> String {
    let mut text = format!(
        r#"{{"from":{},"seq":{},"sent_us":{},"intended_us":{},"phase":{},"pad":""#,
        h.from, h.seq, h.sent_us, h.intended_us, h.phase
    );
    let pad = bytes.saturating_sub(text.len() + 2);
    text.extend(std::iter::repeat_n('.', pad));
    text.push_str("\"}");
    text
}

/// What one receiver has had of one sender's messages (or one SSE subscriber of its server's).
#[derive(Debug, Default, Clone)]
pub(crate) struct Track {
    /// The next sequence number in order.
    next: u64,
    /// Sequence numbers below `next` that were skipped and have not come (yet).
    missing: BTreeSet<u64>,
}

/// What a received message was, for its sender's track.
#[derive(Debug, PartialEq)]
pub(crate) enum Arrival {
    InOrder,
    /// After a later message of the same sender.
    OutOfOrder,
    Duplicate,
}

impl Track {
    /// A track whose first expected number is `first` (an SSE subscriber joins at any tick).
    pub fn starting_at(first: u64) -> Track {
        Track { next: first, missing: BTreeSet::new() }
    }

    /// Numbers skipped and never received since the first.
    pub fn skipped(&self) -> u64 {
        self.missing.len() as u64
    }

    pub fn arrive(&mut self, seq: u64) -> Arrival {
        if seq >= self.next {
            self.missing.extend(self.next..seq);
            self.next = seq + 1;
            Arrival::InOrder
        } else if self.missing.remove(&seq) {
            Arrival::OutOfOrder
        } else {
            Arrival::Duplicate
        }
    }

    /// Messages of a sender that sent `sent` this receiver has not had.
    fn outstanding(&self, sent: u64) -> u64 {
        sent.saturating_sub(self.next) + self.missing.len() as u64
    }
}

/// Microseconds of a run offset.
fn micros(d: Duration) -> u64 {
    d.as_micros().min(u128::from(u64::MAX)) as u64
}

/// The loop of one room member: join (again, if the pool's connect failed), then send (a
/// sender) and receive until the senders are done and this member has had everything or given up
/// on it.
pub(crate) async fn member_loop(ctx: Rc<Ctx>, mut vc: VirtualConnection, options: WsOptions, member: usize) {
    let senders = options.broadcast.unwrap_or(0);
    if let Some(took) = vc.unrecorded_connect.take() {
        ctx.collector.borrow_mut().record_connect(took);
    }
    let ws = match vc.ws.take() {
        Some(ws) => Some(ws),
        None => {
            // A member that joins late misses what was sent before it: one more try, now.
            let started = Instant::now();
            let open = websocket::open(ctx.addr, &ctx.authority, &ctx.path, vc.counters.clone());
            match tokio::time::timeout(ctx.timeout, open).await {
                Ok(Ok(ws)) => {
                    ctx.collector.borrow_mut().record_connect(Some(started.elapsed()));
                    vc.unrecorded_opens += 1;
                    Some(ws)
                }
                failed => {
                    ctx.collector.borrow_mut().record_connect(None);
                    let class = match failed {
                        Ok(Err(class)) => class,
                        _ => ErrorClass::Timeout,
                    };
                    fail(&ctx, &vc, &mut (0, 0), class, 1);
                    None
                }
            }
        }
    };
    let opened = std::mem::take(&mut vc.unrecorded_opens);
    let mut member = Member {
        ctx: &ctx,
        vc: &vc,
        options,
        index: member,
        sender: member < senders,
        ws,
        tracks: vec![Track::default(); senders],
        own: VecDeque::new(),
        next_seq: 0,
        seen: (0, 0),
        opened,
    };
    member.run().await;
}

/// What woke a member up.
enum Event {
    Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
    /// A sender's slot is due (`false`: the run was stopped first).
    Due(bool),
    /// The senders are done and the timeout has passed since the last send.
    Drained,
}

/// How often a member whose connection is gone looks whether the senders are done.
const GONE_NAP: Duration = Duration::from_millis(20);

/// One member's state.
struct Member<'a> {
    ctx: &'a Ctx,
    vc: &'a VirtualConnection,
    options: WsOptions,
    index: usize,
    sender: bool,
    /// `None` once the connection is gone (or never came).
    ws: Option<WsConnection>,
    tracks: Vec<Track>,
    /// A sender's messages whose own copy has not come back: sequence number and send lag.
    own: VecDeque<(u64, Duration)>,
    next_seq: u64,
    seen: (u64, u64),
    opened: u64,
}

impl Member<'_> {
    async fn run(&mut self) {
        let ctx = self.ctx;
        let mut pending: Option<Slot> = None;
        let mut sending = self.sender;
        let drain = tokio::time::sleep(Duration::ZERO);
        tokio::pin!(drain);
        loop {
            if ctx.stopped() {
                // What a stopped run had in flight is neither delivered nor lost: left out.
                break;
            }
            if sending && pending.is_none() {
                pending = ctx.pacer.borrow_mut().next(ctx.elapsed());
            }
            if sending && (pending.is_none() || self.ws.is_none()) {
                sending = false;
                ctx.board.borrow_mut().senders_done += 1;
            }
            let (all_sent, last_send) = {
                let board = ctx.board.borrow();
                (board.all_sent(), board.last_send)
            };
            if all_sent {
                if self.outstanding() == 0 {
                    break;
                }
                if self.ws.is_none() {
                    self.give_up();
                    break;
                }
                drain.as_mut().reset(tokio::time::Instant::from_std(ctx.t0 + last_send + ctx.timeout));
            }
            let intended = pending.map(|s| s.intended).filter(|_| sending);
            let Some(ws) = self.ws.as_mut() else {
                // Gone: nothing to read or send, only the senders' end to wait for.
                wait_until(ctx, &self.vc.timer, ctx.elapsed() + GONE_NAP).await;
                continue;
            };
            let event = tokio::select! {
                // A due send goes first: it is cheap, and a burst of deliveries must not make it late.
                biased;
                go = wait_until(ctx, &self.vc.timer, intended.unwrap_or_default()), if intended.is_some() => Event::Due(go),
                frame = ws.next() => Event::Frame(frame),
                () = &mut drain, if all_sent => Event::Drained,
            };
            match event {
                Event::Frame(Some(Ok(Message::Text(text)))) => self.on_text(&text),
                Event::Frame(Some(Ok(Message::Binary(_)))) => {
                    ctx.collector.borrow_mut().record_sequence(SequenceEvent::Unexpected, 1);
                }
                Event::Frame(Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)))) => {}
                Event::Frame(Some(Ok(Message::Close(_)) | Err(_)) | None) => self.ws = None,
                Event::Due(go) => {
                    if go {
                        let slot = pending.take().expect("a slot is pending when its wait ends");
                        self.send(slot).await;
                    }
                }
                Event::Drained => {
                    self.give_up();
                    break;
                }
            }
        }
        if let Some(mut ws) = self.ws.take() {
            websocket::close(&mut ws).await;
        }
    }

    /// Sends the message of `slot`; a send that fails breaks the membership.
    async fn send(&mut self, slot: Slot) {
        let ctx = self.ctx;
        let sent = ctx.elapsed();
        let header = Header {
            from: self.index,
            seq: self.next_seq,
            sent_us: micros(sent),
            intended_us: micros(slot.intended),
            phase: slot.phase,
        };
        let text = message_text(&header, self.options.message_bytes);
        let Some(ws) = self.ws.as_mut() else { return };
        if ws.send(Message::text(text)).await.is_err() {
            self.ws = None;
            return;
        }
        self.own.push_back((header.seq, sent.saturating_sub(slot.intended)));
        self.next_seq += 1;
        let mut board = ctx.board.borrow_mut();
        board.sent[self.index] += 1;
        board.last_send = board.last_send.max(sent);
    }

    fn on_text(&mut self, text: &str) {
        let ctx = self.ctx;
        let header = serde_json::from_str::<Header>(text).ok().filter(|h| h.from < self.tracks.len());
        let Some(header) = header.filter(|h| h.phase < ctx.phase_count()) else {
            ctx.collector.borrow_mut().record_sequence(SequenceEvent::Unexpected, 1);
            return;
        };
        match self.tracks[header.from].arrive(header.seq) {
            Arrival::Duplicate => {
                ctx.collector.borrow_mut().record_sequence(SequenceEvent::Duplicated, 1);
                return;
            }
            Arrival::OutOfOrder => ctx.collector.borrow_mut().record_sequence(SequenceEvent::OutOfOrder, 1),
            Arrival::InOrder => {}
        }
        let lag = if header.from == self.index {
            let at = self.own.iter().position(|(seq, _)| *seq == header.seq);
            at.and_then(|i| self.own.remove(i)).map(|(_, lag)| lag)
        } else {
            None
        };
        let slot = Slot { intended: Duration::from_micros(header.intended_us), phase: header.phase, seq: header.seq };
        let sent = Duration::from_micros(header.sent_us);
        let opened = std::mem::take(&mut self.opened);
        websocket::record(
            ctx,
            self.vc,
            &mut self.seen,
            slot,
            Some(sent),
            ctx.elapsed(),
            Some(websocket::ECHO_STATUS),
            None,
            lag,
            false,
            opened,
        );
    }

    /// Deliveries this member still waits for.
    fn outstanding(&self) -> u64 {
        let board = self.ctx.board.borrow();
        self.tracks.iter().zip(&board.sent).map(|(t, &sent)| t.outstanding(sent)).sum()
    }

    /// Whatever has not come is lost: counted, and recorded as failed deliveries.
    fn give_up(&mut self) {
        let lost = self.outstanding();
        if lost > 0 {
            self.ctx.collector.borrow_mut().record_sequence(SequenceEvent::Lost, lost);
            fail(self.ctx, self.vc, &mut self.seen, ErrorClass::Timeout, lost);
        }
    }
}

/// Records `n` failed deliveries (or a failed join) in the run's last phase, the measurement.
pub(crate) fn fail(ctx: &Ctx, vc: &VirtualConnection, seen: &mut (u64, u64), class: ErrorClass, n: u64) {
    let ended = ctx.elapsed();
    let slot = Slot { intended: ended.saturating_sub(ctx.timeout), phase: ctx.phase_count() - 1, seq: 0 };
    for _ in 0..n {
        websocket::record(ctx, vc, seen, slot, None, ended, None, Some(class), None, false, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::WS_BROADCAST_MIN_BYTES;

    #[test]
    fn a_message_at_its_widest_fits_the_smallest_size_and_reads_back() {
        let widest = Header { from: 99_999, seq: u64::MAX, sent_us: u64::MAX, intended_us: u64::MAX, phase: 999 };
        let text = message_text(&widest, WS_BROADCAST_MIN_BYTES);
        assert!(text.len() <= WS_BROADCAST_MIN_BYTES, "{} bytes: {text}", text.len());
        assert_eq!(serde_json::from_str::<Header>(&text).unwrap(), widest);
        let small = Header { from: 1, seq: 2, sent_us: 3, intended_us: 4, phase: 0 };
        let padded = message_text(&small, 300);
        assert_eq!(padded.len(), 300);
        assert_eq!(serde_json::from_str::<Header>(&padded).unwrap(), small);
    }

    #[test]
    fn a_track_tells_gaps_late_arrivals_and_copies_apart() {
        let mut t = Track::default();
        assert_eq!(t.arrive(0), Arrival::InOrder);
        assert_eq!(t.arrive(3), Arrival::InOrder, "1 and 2 are skipped, not yet lost");
        assert_eq!(t.outstanding(4), 2);
        assert_eq!(t.arrive(2), Arrival::OutOfOrder);
        assert_eq!(t.arrive(2), Arrival::Duplicate);
        assert_eq!(t.arrive(0), Arrival::Duplicate);
        assert_eq!(t.outstanding(4), 1, "1 is still missing");
        assert_eq!(t.outstanding(6), 3, "and 4 and 5 never came");
    }
}
