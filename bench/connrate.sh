#!/usr/bin/env bash
# Connection rate through forking relays, in one run: 16 workers connect,
# send a byte, read it back and reset, against a plain Go echo server
# (bench/rtt echo), `sockit relay TCP4-LISTEN:A,fork PIPE` and the same
# in front of the Go echo (TCP:127.0.0.1:E), and socat with both lines.
# The paths take turns a second at a time. Prints conn/s and ratios.
# Usage: bench/connrate.sh [SECONDS per path] [WORKERS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
C=${2:-16}
. bench/lib.sh
build sockit rtt

P=${PORT:-24200}
E=$P
start "$TMP/rtt" echo "127.0.0.1:$E"
L="bind=127.0.0.1,fork,reuseaddr,backlog=1024"
start "$TMP/sockit" relay "TCP4-LISTEN:$((P+1)),$L" PIPE
start socat "TCP4-LISTEN:$((P+2)),$L" PIPE
start "$TMP/sockit" relay "TCP4-LISTEN:$((P+3)),$L" "TCP:127.0.0.1:$E"
start socat "TCP4-LISTEN:$((P+4)),$L" "TCP:127.0.0.1:$E"
for p in $E $((P+1)) $((P+2)) $((P+3)) $((P+4)); do wait_port "$p"; done

printf 'connection rate, %s s per path, %s workers, %s, %s\n' "$SECS" "$C" "$(uname -srm)" "$(date -u +%F)"
out=$("$TMP/rtt" conns "$SECS" "$C" "127.0.0.1:$E" "127.0.0.1:$((P+1))" "127.0.0.1:$((P+2))" "127.0.0.1:$((P+3))" "127.0.0.1:$((P+4))")
rate() { echo "$out" | awk -v a="127.0.0.1:$1" '$1 == a {print $2}'; }
direct=$(rate "$E") spipe=$(rate $((P+1))) cpipe=$(rate $((P+2))) stcp=$(rate $((P+3))) ctcp=$(rate $((P+4)))
printf '  Go echo server          %8s conn/s\n' "$direct"
printf '  sockit relay fork PIPE  %8s conn/s  %.2fx Go echo, %.2fx socat\n' "$spipe" "$(echo "$spipe/$direct" | bc -l)" "$(echo "$spipe/$cpipe" | bc -l)"
printf '  socat fork PIPE         %8s conn/s\n' "$cpipe"
printf '  sockit relay fork TCP   %8s conn/s  %.2fx Go echo, %.2fx socat\n' "$stcp" "$(echo "$stcp/$direct" | bc -l)" "$(echo "$stcp/$ctcp" | bc -l)"
printf '  socat fork TCP          %8s conn/s\n' "$ctcp"
