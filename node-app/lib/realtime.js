'use strict';
// The contract's WebSocket endpoints (group "realtime") for every Node stack: /ws/echo and the
// broadcast rooms of /ws/room, served with `ws` on the stack's own node:http server. Owns the
// upgrade routing, the handshake refusals (400 {"error"} before any upgrade), the room registry
// and the close codes (1009 too large, 1003 binary in a room). Plain GETs on these paths are the
// stack's router's (426, from lib/endpoints.js); limits come from the contract via lib/limits.js.

const http = require('node:http');
const { WebSocketServer } = require('ws');
const { LIMITS } = require('./limits');

const ROOM_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Serves the WebSocket paths on `server` (a node:http server). Upgrades of any other path are
 * answered 404 and closed. On SIGTERM/SIGINT every WebSocket is cut, so the server's close is not
 * held up by long-lived connections.
 */
function attachRealtime(server, { serverHeader }) {
  // perMessageDeflate off: the contract's note, so both stacks move the same bytes.
  const common = { noServer: true, perMessageDeflate: false, clientTracking: true };
  const echo = new WebSocketServer({ ...common, maxPayload: LIMITS.wsEchoMaxBytes });
  const room = new WebSocketServer({ ...common, maxPayload: LIMITS.wsRoomMaxBytes });
  const rooms = new Map();

  echo.on('connection', (socket) => {
    socket.on('error', ignoreProtocolError);
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });

  room.on('connection', (socket, request, name) => {
    let members = rooms.get(name);
    if (!members) rooms.set(name, (members = new Set()));
    members.add(socket);
    socket.on('error', ignoreProtocolError);
    socket.on('message', (data, isBinary) => {
      if (isBinary) return socket.close(1003, 'binary messages are not accepted in a room');
      for (const member of members) {
        if (member.readyState === member.OPEN) member.send(data, { binary: false });
      }
    });
    socket.on('close', () => {
      members.delete(socket);
      if (members.size === 0 && rooms.get(name) === members) rooms.delete(name);
    });
  });

  const routes = {
    '/ws/echo': () => ({ wss: echo }),
    '/ws/room': (query) => {
      const name = query.get('name');
      if (name === null) return { refuse: 'missing query parameter name' };
      if (!ROOM_NAME.test(name)) return { refuse: 'name must match ^[A-Za-z0-9_-]{1,64}$' };
      return { wss: room, arg: name };
    },
  };

  server.on('upgrade', (request, socket, head) => {
    const at = request.url.indexOf('?');
    const pathname = at < 0 ? request.url : request.url.slice(0, at);
    const route = routes[pathname];
    if (!route) return refuse(socket, serverHeader, 404, 'not found');
    const { wss, arg, refuse: reason } = route(new URLSearchParams(at < 0 ? '' : request.url.slice(at + 1)));
    if (reason) return refuse(socket, serverHeader, 400, reason);
    wss.handleUpgrade(request, socket, head, (ws) => wss.emit('connection', ws, request, arg));
  });

  const cut = () => {
    for (const wss of [echo, room]) for (const client of wss.clients) client.terminate();
  };
  process.on('SIGTERM', cut);
  process.on('SIGINT', cut);
}

/**
 * A client's protocol error (a message over maxPayload, invalid UTF-8): ws has already sent the
 * close code (1009, 1007, ...) and closes the socket; without a listener the 'error' event would
 * kill the process.
 */
function ignoreProtocolError() {}

/** Answers an upgrade request with the contract's JSON error and no upgrade. */
function refuse(socket, serverHeader, status, message) {
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
      `Server: ${serverHeader}\r\n` +
      `Date: ${new Date().toUTCString()}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

module.exports = { attachRealtime };
