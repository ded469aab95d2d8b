#!/usr/bin/env bash
# Broker fan-out and scale, sockit against ncat in one run:
#  1. fan-out throughput: one sender writing 64 KiB batches of 64-byte
#     lines to K = 10, 100, 500, 1000 receivers; lines delivered per second
#     and sockit's ratio to ncat (taking turns, ROUNDS rounds);
#  2. small messages: one 64-byte line per write, lines/s and the delivery
#     latency p50/p99 (the histogram stops at 1 s: 1000000 means "1 s or more");
#  3. idle clients: the broker's RSS before and after N idle clients spread
#     over 127.0.0.x sources and 4 load processes (sockit: 19,000; ncat:
#     1,000, as it cannot hold more than FD_SETSIZE descriptors).
# Usage: bench/hub.sh [SECONDS per run] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
ROUNDS=${2:-2}
. bench/lib.sh
build sockit hubload
BIN=$TMP/sockit
LOAD=$TMP/hubload

P=${PORT:-24200}

echo "# $(date -u +%F) $(nproc) cores, $(uname -r); ncat $(ncat --version 2>&1 | grep -o '[0-9.]*' | head -1)"
ncat --broker -m 1100 -l 127.0.0.1 "$P" </dev/null >/dev/null 2>&1 & PIDS+=($!)
"$BIN" --broker -l 127.0.0.1 $((P + 1)) </dev/null >/dev/null 2>"$TMP/sockit.err" & PIDS+=($!)
wait_port "$P"; wait_port $((P + 1))

# field VALUE LINE: the number after VALUE in LINE
field() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$2"; }

echo "## fan-out: 64 KiB batches of 64-byte lines, ${SECS}s per run, lines/s delivered"
printf '%6s %14s %14s %7s\n' K ncat sockit ratio
for K in 10 100 500 1000; do
  for r in $(seq "$ROUNDS"); do
    n=$("$LOAD" fanout "$K" "$SECS" "127.0.0.1:$P")
    s=$("$LOAD" fanout "$K" "$SECS" "127.0.0.1:$((P + 1))")
    n=$(field delivered "$n"); s=$(field delivered "$s")
    printf '%6s %14s %14s %7s\n' "$K" "$n" "$s" "$(awk -v a="$s" -v b="$n" 'BEGIN{printf "%.2f", a/b}')"
  done
done

echo "## small messages: one 64-byte line per write, ${SECS}s per run"
printf '%6s %8s %12s %8s %8s\n' K tool lines/s p50_us p99_us
for K in 10 100 500; do
  for r in $(seq "$ROUNDS"); do
    for tool in ncat sockit; do
      port=$P; [ $tool = sockit ] && port=$((P + 1))
      out=$("$LOAD" lines "$K" "$SECS" "127.0.0.1:$port")
      printf '%6s %8s %12s %8s %8s\n' "$K" $tool "$(field delivered "$out")" "$(field p50 "$out")" "$(field p99 "$out")"
    done
  done
done
if [ -s "$TMP/sockit.err" ]; then echo "sockit said:"; head -5 "$TMP/sockit.err"; fi

# idle NAME PID PORT N: RSS growth of the broker PID for N idle clients.
idle() {
  local name=$1 pid=$2 port=$3 n=$4 procs=4 loads=() before after
  before=$(rss "$pid")
  for i in $(seq 0 $((procs - 1))); do
    "$LOAD" idle $((n / procs)) "127.0.0.1:$port" "127.0.$((10 + i)).1" "127.0.$((10 + i)).2" < <(sleep 600) > "$TMP/idle$i" 2>&1 &
    loads+=($!)
  done
  for _ in $(seq 600); do
    [ "$(cat "$TMP"/idle* | grep -c ready)" = $procs ] && break
    grep -q hubload "$TMP"/idle* && break
    sleep 0.1
  done
  sleep 1
  if kill -0 "$pid" 2>/dev/null; then
    after=$(rss "$pid")
    printf '%-7s %6d clients: RSS %6d -> %6d KiB, %5d bytes per client, %d descriptors\n' "$name" \
      "$(cat "$TMP"/idle* | awk '/ready/{s+=$2} END{print s+0}')" "$before" "$after" \
      $(( (after - before) * 1024 / n )) "$(ls "/proc/$pid/fd" | wc -l)"
  else
    echo "$name died holding $n clients"
  fi
  grep -h hubload "$TMP"/idle* | head -2 || true
  for l in "${loads[@]}"; do kill "$l" 2>/dev/null || true; done
  wait "${loads[@]}" 2>/dev/null || true
  rm -f "$TMP"/idle*
}
echo "## idle clients, each against a fresh broker"
# fresh NAME N ARGS...: start a broker on the next port and hold N idle clients on it
next=$((P + 2))
fresh() {
  local name=$1 n=$2; shift 2
  "$@" -l 127.0.0.1 "$next" </dev/null >/dev/null 2>&1 & PIDS+=($!)
  wait_port "$next"
  idle "$name" "${PIDS[-1]}" "$next" "$n"
  next=$((next + 1))
}
fresh ncat 1000 ncat --broker -m 2000
fresh ncat 1100 ncat --broker -m 2000
fresh sockit 19000 "$BIN" --broker
