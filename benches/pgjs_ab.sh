#!/bin/bash
# pg against postgres.js on Express: two `claimbench serve express` (each with its own database,
# pinned to CPU 1), loaded in turn A B B A from CPU 0; prints req/s and p99 per trial.
cd "$(dirname "$0")/.."
B=target/release/claimbench   # build it first: cargo build --release
$B serve express --port 18081 --cpus 1 > /tmp/serve_pg.log 2>&1 &
A=$!
DATABASE_DRIVER=postgres.js $B serve express --port 18082 --cpus 1 > /tmp/serve_pgjs.log 2>&1 &
Bp=$!
trap 'kill -INT $A $Bp; wait' EXIT
for port in 18081 18082; do for i in $(seq 200); do curl -sf http://127.0.0.1:$port/db >/dev/null && break; sleep 0.3; done; done
for path in "/db" "/queries?queries=20" "/fortunes"; do
  for round in 1 2 3; do
    for port in 18081 18082 18082 18081; do
      name=$([ $port = 18081 ] && echo pg || echo postgres.js)
      out=$($B load "http://127.0.0.1:$port$path" -c 64 -d 2s --warmup 1s --core 0 2>&1)
      rate=$(echo "$out" | grep -oE '[0-9.]+ req/s' | head -1)
      p99=$(echo "$out" | awk '/p99 /{print $2$3; exit}')
      echo "$path round=$round $name $rate p99=$p99"
    done
  done
done
