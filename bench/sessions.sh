#!/usr/bin/env bash
# RSS per idle relayed session (issue 16): `sockit relay
# TCP-LISTEN:A,fork TCP:127.0.0.1:B` under prlimit --nofile=20000 holds N
# idle client sessions (bench/hubload idle) to an upstream that keeps
# them open (a sockit broker: an echo that splices would hold a pipe per
# connection and run out of descriptors first). The relay's RSS is read before, at once when the N are up,
# and then every 30 s for WAIT seconds, long enough for the Go runtime's
# periodic GC (every 2 min when nothing allocates) and its scavenger to
# give back what the burst of accepts left behind: the steady state of
# an idle relay. With BASE=REV, sockit as built at REV runs the same, in
# turn, in the same run.
# Usage: bench/sessions.sh [N] [WAIT seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-9000}
WAIT=${2:-150}
. bench/lib.sh
build sockit hubload
TOOLS=(sockit)
if [ -n "${BASE:-}" ]; then
	build_base "$BASE"
	TOOLS+=(base)
fi
P=${PORT:-24600}
start prlimit --nofile=20000 "$TMP/sockit" --broker -l 127.0.0.1 "$P"
wait_port "$P"
printf 'idle relayed sessions, N=%s, %s, %s\n' "$N" "$(uname -srm)" "$(date -u +%F)"
n=1
for tool in "${TOOLS[@]}"; do
	bin=$TMP/sockit
	[ "$tool" = base ] && bin=$TMP/sockit-base
	port=$((P + n)); n=$((n + 1))
	start prlimit --nofile=20000 "$bin" relay "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr,max-children=20000,backlog=4096" "TCP:127.0.0.1:$P"
	wait_port "$port"
	pid=${PIDS[-1]} # prlimit execs the relay: the same PID
	before=$(rss "$pid")
	prlimit --nofile=20000 "$TMP/hubload" idle "$N" "127.0.0.1:$port" 127.0.0.2 127.0.0.3 < <(sleep $((WAIT + 60))) > "$TMP/idle" 2>&1 &
	load=$!
	for _ in $(seq 600); do grep -q ready "$TMP/idle" && break; sleep 0.1; done
	grep -q ready "$TMP/idle" || { cat "$TMP/idle"; exit 1; }
	# every session's upstream dialled: two descriptors each
	for _ in $(seq 600); do fds=$(ls /proc/"$pid"/fd | wc -l); [ "$fds" -ge $((2 * N)) ] && break; sleep 0.1; done
	printf '%-7s %s descriptors; RSS %s KiB before\n' "$tool" "$fds" "$before"
	for t in $(seq 0 30 "$WAIT"); do
		[ "$t" -gt 0 ] && sleep 30
		now=$(rss "$pid")
		printf '  %3d s: RSS %7s KiB, %5.2f KiB per idle session\n' "$t" "$now" "$(echo "($now - $before) / $N" | bc -l)"
	done
	kill "$load" 2>/dev/null || true
	kill "$pid" 2>/dev/null || true
	wait "$load" 2>/dev/null || true
done
