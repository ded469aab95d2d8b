#!/usr/bin/env bash
# What watching costs a relay, in one run: iperf3 throughput and 64-byte
# round trips (p50/p99) through `sockit relay TCP-LISTEN,fork TCP` built
# from a base revision (before the observers), built from this tree with
# no observer, with --json to a file, with --monitor, and with --capture
# to a file. The
# paths take turns each round; the summary gives the median of the
# per-round ratios against this tree's unobserved relay.
# Usage: bench/observe.sh [SECONDS per iperf3 run] [ROUNDS] [BASE revision]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
BASE=${3:-8b09930}
. bench/lib.sh
build sockit rtt
build_base "$BASE"

P=${PORT:-24300}
IPERF=$P; ECHO=$((P + 1))

# relay NAME LISTEN_PORT TARGET_PORT
relay() {
  local l="TCP4-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" t="TCP:127.0.0.1:$3"
  case $1 in
    base)    start "$TMP/sockit-base" relay "$l" "$t" ;;
    plain)   start "$TMP/sockit" relay "$l" "$t" ;;
    json)    start "$TMP/sockit" relay --json="$TMP/events-$2.ndjson" "$l" "$t" ;;
    capture) start "$TMP/sockit" relay --capture "$TMP/capture-$2.pcapng" "$l" "$t" ;;
    monitor) start "$TMP/sockit" relay --monitor "127.0.0.1:$(($2 + 100))" "$l" "$t" ;;
  esac
  wait_port "$2"
}

start iperf3 -s -p "$IPERF"
start "$TMP/rtt" echo "127.0.0.1:$ECHO"
wait_port "$IPERF"; wait_port "$ECHO"
TOOLS="base plain json monitor capture"
declare -A port rport
n=2
for tool in $TOOLS; do
  port[$tool]=$((P + n)); rport[$tool]=$((P + n + 1)); n=$((n + 2))
  relay "$tool" "${port[$tool]}" "$IPERF"
  relay "$tool" "${rport[$tool]}" "$ECHO"
done

printf 'observer bench, %s rounds, %s s per iperf3 run, base %s, %s, %s\n' "$ROUNDS" "$SECS" "$BASE" "$(uname -srm)" "$(date -u +%F)"
ratio() { echo "$1 / $2" | bc -l; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
declare -A gbps tput p50 p99
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  for tool in $TOOLS; do
    out=$(iperf3 -c 127.0.0.1 -p "${port[$tool]}" -t "$SECS" -f g)
    gbps[$tool]=$(echo "$out" | awk '/receiver/ {print $(NF-2)}')
  done
  for tool in $TOOLS; do
    printf '  %-8s %8.2f Gbit/s  %5.2fx plain\n' "$tool" "${gbps[$tool]}" "$(ratio "${gbps[$tool]}" "${gbps[plain]}")"
    tput[$tool]+="$(ratio "${gbps[$tool]}" "${gbps[plain]}") "
  done
  args=()
  for tool in $TOOLS; do args+=("127.0.0.1:${rport[$tool]}"); done
  rtt=$("$TMP/rtt" ping 20000 "${args[@]}")
  for tool in $TOOLS; do rtt=$(echo "$rtt" | sed "s/^127.0.0.1:${rport[$tool]} /$tool /"); done
  echo "$rtt" | sed 's/^/  /'
  us() { echo "$rtt" | awk -v t="$1" -v q="$2" '$1 == t { for (i = 2; i < NF; i++) if ($i == q) print $(i+1) }'; }
  for tool in $TOOLS; do
    p50[$tool]+="$(ratio "$(us "$tool" p50)" "$(us plain p50)") "
    p99[$tool]+="$(ratio "$(us "$tool" p99)" "$(us plain p99)") "
  done
  # Captures grow by the gigabyte: keep the disk from filling between rounds.
  for f in "$TMP"/capture-*.pcapng; do : > "$f"; done
done
printf '\nmedians over %s rounds, against this tree with no observer (throughput above 1 is faster, round trips below 1 are):\n' "$ROUNDS"
for tool in $TOOLS; do
  printf '  %-8s throughput %.2fx   round trip p50 %.2fx  p99 %.2fx\n' "$tool" \
    "$(echo "${tput[$tool]}" | tr ' ' '\n' | grep . | median)" \
    "$(echo "${p50[$tool]}" | tr ' ' '\n' | grep . | median)" \
    "$(echo "${p99[$tool]}" | tr ' ' '\n' | grep . | median)"
done
ls -la "$TMP"/events-*.ndjson | awk '{print "  events file", $NF, $5, "bytes"}'
