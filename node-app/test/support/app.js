'use strict';
// Starts a stack's server.js as a real child process on a free loopback port, the way the
// benchmark supervisor does, and waits for its "listening" line. Tests then talk to it over
// sockets and stop it with signals.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

const NODE_APP = path.resolve(__dirname, '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Spawns stacks/<stack>/server.js with `env` added; resolves once it prints its listening line
 * (under cluster, once every worker listens). Rejects with its output if it exits first.
 */
async function startApp({ stack = 'express', env = {}, timeoutMs = 10000 } = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(NODE_APP, 'stacks', stack, 'server.js')], {
    cwd: NODE_APP,
    env: { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = () => {
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${signal ?? code}) before listening:\n${output}`));
    });
  });

  return {
    port,
    base: `http://127.0.0.1:${port}`,
    child,
    exited,
    output: () => output,
    /** SIGTERM, then SIGKILL if it is still there after `graceMs`. */
    async stop(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** The pids of a process's direct children (Linux /proc). */
function childPids(pid) {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Whether `pid` still runs; a zombie (exited, not yet reaped by its new parent) does not. */
function isAlive(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

module.exports = { startApp, childPids, isAlive, NODE_APP };
