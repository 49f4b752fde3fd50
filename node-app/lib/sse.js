'use strict';
// The contract's server-sent events (GET /sse/ticks, group "realtime") for Node: one shared
// ticker per process and per (hz, bytes) pushes the same timestamped event to every subscriber,
// so the fan-out is the server's work. Owns the tickers (started by the first subscriber, stopped
// with the last), the event's framing and padding, and dropping an event for a subscriber whose
// socket is still full (it sees a gap in the ids, never a stall of the others). Leaves routing and
// error bodies to the stack, and the limits to the contract (lib/limits.js).

const { LIMITS, intParam } = require('./logic');

/** One event: `id: SEQ`, a `data:` line of exactly `bytes` bytes, a blank line. */
function frame(seq, sentUs, bytes) {
  const head = `{"seq":${seq},"sent_us":${sentUs},"pad":"`;
  const pad = 'x'.repeat(Math.max(0, bytes - head.length - 2));
  return `id: ${seq}\ndata: ${head}${pad}"}\n\n`;
}

const nowUs = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

class Ticker {
  constructor(hz, bytes, onIdle) {
    this.period = 1000 / hz;
    this.bytes = bytes;
    this.subscribers = new Set();
    this.seq = 0;
    this.onIdle = onIdle;
    this.started = performance.now();
    this.timer = null;
    this.schedule();
  }

  // Drift-free: tick n is due at start + n * period, whenever the previous one ran.
  schedule() {
    const due = this.started + (this.seq + 1) * this.period;
    this.timer = setTimeout(() => this.tick(), Math.max(0, due - performance.now()));
  }

  tick() {
    const event = frame(this.seq, nowUs(), this.bytes);
    this.seq += 1;
    for (const res of this.subscribers) {
      // A subscriber whose socket has not drained loses this event (a gap in its ids).
      if (!res.writableNeedDrain) res.write(event);
    }
    this.schedule();
  }

  leave(res) {
    this.subscribers.delete(res);
    if (this.subscribers.size === 0) {
      clearTimeout(this.timer);
      this.onIdle();
    }
  }
}

const tickers = new Map();
const streams = new Set();

/** GET /sse/ticks?hz=H&bytes=B: subscribes `res` until the client goes away. */
function ticks(query, res) {
  const hz = intParam(query, 'hz', LIMITS.sseHz);
  const bytes = intParam(query, 'bytes', LIMITS.sseBytes);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/event-stream');
  res.setHeader('Cache-Control', 'no-cache');
  res.flushHeaders();
  const key = `${hz}:${bytes}`;
  let ticker = tickers.get(key);
  if (!ticker) tickers.set(key, (ticker = new Ticker(hz, bytes, () => tickers.delete(key))));
  ticker.subscribers.add(res);
  streams.add(res);
  return new Promise((resolve) => {
    res.on('close', () => {
      ticker.leave(res);
      streams.delete(res);
      resolve();
    });
  });
}

// An event stream never ends by itself: end them all on shutdown, so the server's close is not
// held up by them.
const endAll = () => {
  for (const res of streams) res.end();
};
process.on('SIGTERM', endAll);
process.on('SIGINT', endAll);

module.exports = { ticks, frame };
