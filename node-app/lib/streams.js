'use strict';
// The contract's streamed bodies (group "streams") for Node: GET /stream/download writes the
// stream pattern (notes.streams: byte i is i mod 251) chunk by chunk from a Readable piped into
// the response, so backpressure holds memory to a few chunks whatever the size; POST
// /stream/upload hashes the request stream as it arrives. Owns the pattern, the chunking and the
// digest; leaves routing and error bodies to the stack, and the limits to the contract (lib/limits.js).

const crypto = require('node:crypto');
const { Readable } = require('node:stream');
const { pipeline } = require('node:stream/promises');
const { HttpError, LIMITS, intParam } = require('./logic');

const PERIOD = 251;

// One period-aligned buffer long enough that any chunk is a view into it: chunk at offset o is
// PATTERN[o % 251 .. o % 251 + K]. Views are never written, so sharing them between responses is safe.
const PATTERN = Buffer.alloc(PERIOD + LIMITS.streamChunk.max, 0);
for (let i = 0; i < PATTERN.length; i++) PATTERN[i] = i % PERIOD;

/** A Readable of the first `bytes` bytes of the pattern, in chunks of `chunk` bytes. */
function patternStream(bytes, chunk) {
  let offset = 0;
  return new Readable({
    highWaterMark: chunk,
    read() {
      // Pushes until the stream's buffer is full; read() is called again once it drains.
      while (offset < bytes) {
        const size = Math.min(chunk, bytes - offset);
        const start = offset % PERIOD;
        offset += size;
        if (!this.push(PATTERN.subarray(start, start + size))) return;
      }
      this.push(null);
    },
  });
}

/** GET /stream/download?bytes=N&chunk=K, for a framework that hands over node's req and res. */
async function download(query, res) {
  const bytes = intParam(query, 'bytes', LIMITS.streamBytes);
  const chunk = intParam(query, 'chunk', LIMITS.streamChunk);
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/octet-stream');
  // Headers go out before the first chunk, so even an empty body is sent chunked, as the contract says.
  res.flushHeaders();
  await pipeline(patternStream(bytes, chunk), res);
}

/** POST /stream/upload: reads `req` chunk by chunk, returns {bytes, sha256}. */
async function upload(req) {
  const limit = LIMITS.streamUploadBytes;
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw tooLarge(limit);
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  for await (const piece of req) {
    bytes += piece.length;
    if (bytes > limit) throw tooLarge(limit);
    hash.update(piece);
  }
  return { bytes, sha256: hash.digest('hex') };
}

function tooLarge(limit) {
  return new HttpError(413, `request body exceeds ${limit} bytes`);
}

module.exports = { download, upload, patternStream };
