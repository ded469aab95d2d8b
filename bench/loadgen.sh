#!/usr/bin/env bash
# Is sockit bench the bottleneck? In one run, over loopback TCP:
#   throughput  sockit bench (client and server) vs iperf3 (client and
#               server), one stream and -P 2, each with its default write
#               size (sockit 256 KiB, iperf3 128 KiB) and both at -l 128K,
#               medians of ROUNDS rounds;
#   connect     sockit bench -m connect -c 16 vs a minimal Go loop
#               (bench/rtt conns: connect, a byte each way, reset), both
#               against the same sockit bench serve;
#   rr          sockit bench -m rr (closed loop, 64 bytes) p50 vs a
#               minimal Go ping-pong (bench/rtt ping), same server.
# The tools take turns, round by round. Prints each figure and the ratio.
# Needs iperf3 and jq (Debian packages).
# Usage: bench/loadgen.sh [SECONDS per run] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
. bench/lib.sh
build sockit rtt
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
gbit() { awk -v a="$1" 'BEGIN {printf "%6.2f", a / 1e9}'; }

P=${PORT:-24300}
IPERF=$P SOCKIT=$((P+1))
start iperf3 -s -B 127.0.0.1 -p "$IPERF"
start "$TMP/sockit" bench serve "127.0.0.1:$SOCKIT"
wait_port "$IPERF"; wait_port "$SOCKIT"

printf 'sockit bench vs iperf3 and minimal Go clients, %s s per run, %s rounds, %s, %s\n' "$SECS" "$ROUNDS" "$(uname -srm)" "$(date -u +%F)"
for par in 1 2 1l 2l; do
	: > "$TMP/i$par"; : > "$TMP/s$par"
done
: > "$TMP/gc"; : > "$TMP/sc"; : > "$TMP/gr"; : > "$TMP/sr"
N=$((SECS * 20000))
for _ in $(seq "$ROUNDS"); do
	for par in 1 2; do
		iperf3 -c 127.0.0.1 -p "$IPERF" -t "$SECS" -P "$par" -J | jq '.end.sum_received.bits_per_second' >> "$TMP/i$par"
		"$TMP/sockit" bench --json -t "$SECS" -P "$par" "127.0.0.1:$SOCKIT" | jq '.end.bits_per_second' >> "$TMP/s$par"
		iperf3 -c 127.0.0.1 -p "$IPERF" -t "$SECS" -P "$par" -l 128K -J | jq '.end.sum_received.bits_per_second' >> "$TMP/i${par}l"
		"$TMP/sockit" bench --json -t "$SECS" -P "$par" -l 128K "127.0.0.1:$SOCKIT" | jq '.end.bits_per_second' >> "$TMP/s${par}l"
	done
	"$TMP/rtt" conns "$SECS" 16 "127.0.0.1:$SOCKIT" | awk '{print $2}' >> "$TMP/gc"
	"$TMP/sockit" bench --json -m connect -c 16 -t "$SECS" "127.0.0.1:$SOCKIT" | jq '.end.ops_per_second' >> "$TMP/sc"
	"$TMP/rtt" ping "$N" "127.0.0.1:$SOCKIT" | awk '{print $3}' >> "$TMP/gr"
	"$TMP/sockit" bench --json -m rr -n "$N" -l 64 "127.0.0.1:$SOCKIT" | jq '.end.latency.p50' >> "$TMP/sr"
done
for par in 1 2 1l 2l; do
	i=$(median < "$TMP/i$par") s=$(median < "$TMP/s$par")
	how="defaults  "
	[[ $par == *l ]] && how="-l 128K   "
	printf '  throughput -P %s %s iperf3 %s Gbit/s   sockit bench %s Gbit/s   %sx\n' "${par%l}" "$how" "$(gbit "$i")" "$(gbit "$s")" "$(ratio "$s" "$i")"
done
g=$(median < "$TMP/gc") s=$(median < "$TMP/sc")
printf '  connect -c 16     Go loop %8.0f conn/s  sockit bench %8.0f conn/s  %sx\n' "$g" "$s" "$(ratio "$s" "$g")"
g=$(median < "$TMP/gr") s=$(median < "$TMP/sr")
printf '  rr p50 64 B       Go ping-pong %6.1f us  sockit bench %6.1f us     %sx\n' "$g" "$s" "$(ratio "$s" "$g")"
