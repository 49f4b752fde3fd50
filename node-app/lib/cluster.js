'use strict';
// Process layout for every Node stack: WORKERS=1 runs the server in this process; WORKERS>1 makes
// this process a node:cluster primary that forks that many workers sharing the port. The primary
// owns the workers' lives: it forwards SIGTERM/SIGINT, exits when they have all exited, and exits
// non-zero as soon as one dies on its own. It never respawns a worker: the benchmark supervisor
// must see a crash, not a silently smaller pool. How a worker serves is the caller's `start`.
//
// The other direction needs no code here: when the primary dies (even by SIGKILL) the IPC channel
// closes, and Node's cluster runtime makes each worker exit on that 'disconnect'.

const cluster = require('node:cluster');

// Workers shut down within serve.js's 2 s force-exit; this is the primary's backstop for a
// worker that is wedged (e.g. inside a long synchronous handler).
const KILL_AFTER_MS = 4000;

/**
 * Runs `start()` in-process, or in each of `workers` cluster workers. `name`, `host` and `port`
 * only word the one "listening" line the primary prints.
 */
function runWorkers({ workers, name, host, port }, start) {
  if (workers <= 1 || cluster.isWorker) {
    start();
    return;
  }

  let alive = 0;
  let listening = 0;
  let stopping = false;
  let exitCode = 0;

  const stop = () => {
    if (stopping) return;
    stopping = true;
    for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGTERM');
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers)) worker.process.kill('SIGKILL');
    }, KILL_AFTER_MS).unref();
  };

  cluster.on('listening', () => {
    listening += 1;
    if (listening === workers) console.log(`${name} listening on http://${host}:${port} (${workers} workers)`);
  });

  cluster.on('exit', (worker, code, signal) => {
    alive -= 1;
    if (!stopping) {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      console.error(`error: ${name} worker ${worker.process.pid} ${how}; stopping the other workers`);
      // Keep a worker's own non-zero code (2 = could not listen); a signal or a 0 becomes 1.
      exitCode = code > 0 ? code : 1;
      stop();
    }
    if (alive === 0) process.exit(exitCode);
  });

  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  for (let i = 0; i < workers; i++) {
    cluster.fork();
    alive += 1;
  }
}

module.exports = { runWorkers };
