#!/bin/bash
# The load generator's own bar (issue 11): 10,000 WebSocket echo connections from one pinned
# generator thread (CPU 0) against `claimbench serve STACK` (CPU 1), beside 1,000 for contrast.
# For each level it prints the generator's marginal CPU per echoed message, its peak RSS per connection
# (from /usr/bin/time), and the app's CPU per echoed message (from /proc over the same run), so
# the generator's cost can be read against the app's.
#
#   cargo build --release && benches/ws_10k.sh [express|fastapi] [messages per second]
set -euo pipefail
cd "$(dirname "$0")/.."
B=target/release/claimbench
STACK=${1:-express}
RATE=${2:-5000}
PORT=18091
$B serve "$STACK" --port $PORT --cpus 1 > /tmp/ws_10k_serve.log 2>&1 &
SERVE=$!
trap 'kill -INT $SERVE 2>/dev/null; wait $SERVE 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
# The app's processes: whatever listens on the port, and its children (workers).
APP=$(ss -ltnpH "sport = :$PORT" | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2)
app_cpu() {  # utime + stime of the app's process group, in seconds
  local pgid ticks
  pgid=$(ps -o pgid= -p "$APP" | tr -d ' ')
  ticks=$(pgrep -g "$pgid" | while read -r pid; do awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null; done | paste -sd+ | bc)
  echo "scale=4; $ticks / $(getconf CLK_TCK)" | bc
}
# Each level runs twice, 3 s and 9 s of messages: the differences of CPU over the differences of
# echoes are the marginal costs per echoed message, the handshakes and start-up taken out.
measure() {  # CONNECTIONS SECONDS -> "generator_cpu_s app_cpu_s echoes peak_kib p99_ms failed lost"
  local before after
  before=$(app_cpu)
  /usr/bin/time -f '%M' -o /tmp/ws_10k_time.txt \
    $B load "ws://127.0.0.1:$PORT/ws/echo" --connections "$1" --rate "$RATE" \
    --duration "$2s" --warmup 1s --core 0 --json /tmp/ws_10k.json > /tmp/ws_10k_load.txt 2>&1 || true
  after=$(app_cpu)
  python3 - "$before" "$after" <<'EOF'
import json, sys
r = json.load(open('/tmp/ws_10k.json'))
warm = r.get('warmup') or {}
ws = r['websocket']
print(r['self_check']['cpu_s'], float(sys.argv[2]) - float(sys.argv[1]), r['responses'] + warm.get('responses', 0),
      open('/tmp/ws_10k_time.txt').read().split()[-1], r['latency']['p99_us'] / 1000, ws['connect_failures'], ws['lost'])
EOF
}
for CONNECTIONS in 1000 10000; do
  rm -f /tmp/ws_10k.json
  short=$(measure $CONNECTIONS 3)
  long=$(measure $CONNECTIONS 9)
  python3 - "$CONNECTIONS" "$short" "$long" <<'EOF'
import sys
n = int(sys.argv[1])
g1, a1, e1, _, _, f1, l1 = map(float, sys.argv[2].split())
g2, a2, e2, kib, p99, f2, l2 = map(float, sys.argv[3].split())
echoes = e2 - e1
print(f"{n} connections: p99 {p99:.1f} ms (9 s run), {f1 + f2:.0f} failed handshakes, {l1 + l2:.0f} lost; "
      f"per echoed message, marginal: generator {(g2 - g1) / echoes * 1e6:.1f} µs CPU, app {(a2 - a1) / echoes * 1e6:.1f} µs CPU; "
      f"generator peak RSS {kib / 1024:.0f} MiB, {kib / n:.1f} KiB per connection")
EOF
done
