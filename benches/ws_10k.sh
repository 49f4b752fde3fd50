#!/bin/bash
# The load generator's own bar (issue 11): 10,000 WebSocket echo connections from one pinned
# generator thread (CPU 0) against `claimbench serve STACK` (CPU 1), beside 1,000 for contrast.
# For each run it prints the generator's CPU per echoed message and its peak RSS per connection
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
  ticks=$(ps -o pid= -g "$pgid" | while read -r pid; do awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null; done | paste -sd+ | bc)
  echo "scale=4; $ticks / $(getconf CLK_TCK)" | bc
}
for CONNECTIONS in 1000 10000; do
  before=$(app_cpu)
  /usr/bin/time -f '%M' -o /tmp/ws_10k_time.txt \
    $B load "ws://127.0.0.1:$PORT/ws/echo" --connections $CONNECTIONS --rate "$RATE" \
    --duration 5s --warmup 1s --core 0 --json /tmp/ws_10k.json > /tmp/ws_10k_load.txt 2>&1 || true
  after=$(app_cpu)
  python3 - "$CONNECTIONS" "$before" "$after" <<'EOF'
import json, sys
connections, before, after = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
r = json.load(open('/tmp/ws_10k.json'))
peak_kib = int(open('/tmp/ws_10k_time.txt').read().split()[-1])
warm = r.get('warmup') or {}
echoed = r['responses'] + warm.get('responses', 0)
ws = r['websocket']
print(f"{connections} connections: {r['responses']} echoes in {r['duration_s']:.1f} s ({r['achieved_rate']:.0f}/s), "
      f"p99 {r['latency']['p99_us']/1000:.2f} ms, {ws['connect_failures']} failed handshakes, {ws['lost']} lost; "
      f"generator {r['self_check']['cpu_s']/max(echoed,1)*1e6:.1f} µs CPU per echo, "
      f"{peak_kib*1024/connections/1024:.1f} KiB peak RSS per connection; "
      f"app {(after-before)/max(echoed,1)*1e6:.1f} µs CPU per echo (handshakes included)")
EOF
done
