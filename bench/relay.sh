#!/usr/bin/env bash
# Throughput and latency through a TCP relay, in one run: iperf3 direct,
# through `sockit relay TCP-LISTEN:A,fork TCP:127.0.0.1:B`, through socat
# and through `ncat --sh-exec`; then 64-byte round trips (p50/p99) through
# each, taking turns. Prints every figure and its ratio.
# Usage: bench/relay.sh [SECONDS per iperf3 run]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
TMP=$(mktemp -d)
BIN=$TMP/sockit
go build -o "$BIN" ./cmd/sockit
go build -o "$TMP/rtt" ./bench/rtt
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

# Ports below the ephemeral range, so client sockets never hold them.
P=${PORT:-24100}
IPERF=$P; ECHO=$((P + 1))
start() { "$@" > /dev/null 2>&1 & PIDS+=($!); }
wait_port() { for _ in $(seq 200); do ss -ltn | grep -q ":$1 " && return; sleep 0.02; done; echo "nothing on $1" >&2; exit 1; }

# relays NAME LISTEN_PORT TARGET_PORT
relay() {
  case $1 in
    sockit) start "$BIN" relay "TCP4-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$3" ;;
    socat)  start socat "TCP4-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$3" ;;
    ncat)   start ncat -lk 127.0.0.1 "$2" --sh-exec "exec ncat 127.0.0.1 $3" ;;
  esac
  wait_port "$2"
}

start iperf3 -s -p "$IPERF"
start "$TMP/rtt" echo "127.0.0.1:$ECHO"
wait_port "$IPERF"; wait_port "$ECHO"
declare -A port=([direct]=$IPERF) rport=([direct]=$ECHO)
n=2
for tool in sockit socat ncat; do
  port[$tool]=$((P + n)); rport[$tool]=$((P + n + 1)); n=$((n + 2))
  relay "$tool" "${port[$tool]}" "$IPERF"
  relay "$tool" "${rport[$tool]}" "$ECHO"
done

printf 'relay bench, %s s per run, %s, %s\n' "$SECS" "$(uname -srm)" "$(date -u +%F)"
declare -A gbps
for tool in direct sockit socat ncat; do
  out=$(iperf3 -c 127.0.0.1 -p "${port[$tool]}" -t "$SECS" -f g)
  gbps[$tool]=$(echo "$out" | awk '/receiver/ {print $(NF-2)}')
  printf '%-7s %8.2f Gbit/s  %5.2fx direct\n' "$tool" "${gbps[$tool]}" "$(echo "${gbps[$tool]} / ${gbps[direct]}" | bc -l)"
done
printf 'sockit / socat throughput: %.2fx\n\n' "$(echo "${gbps[sockit]} / ${gbps[socat]}" | bc -l)"
# Round trips: the four paths take turns, 100 round trips at a time.
"$TMP/rtt" ping 20000 "127.0.0.1:${rport[direct]}" "127.0.0.1:${rport[sockit]}" \
  "127.0.0.1:${rport[socat]}" "127.0.0.1:${rport[ncat]}" |
  sed "s/^127.0.0.1:${rport[direct]} /direct  /; s/^127.0.0.1:${rport[sockit]} /sockit  /; s/^127.0.0.1:${rport[socat]} /socat   /; s/^127.0.0.1:${rport[ncat]} /ncat    /"
