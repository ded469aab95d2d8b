#!/usr/bin/env bash
# Two brokers on two "hosts" (network namespaces made here, joined to this
# one by veth pairs), federated through one NATS server on this side; the
# link to host B is slowed with tbf. One sender on broker A, receivers on
# A and on B: does the slow link slow only the clients behind it? Prints
# the lines/s A's receivers get alone, then with B's slow receivers in the
# room, and what B's get. Needs root (ip netns, tc), nats-server.
# Usage: bench/federation-netns.sh [SECONDS per run] [RATE of B's link]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
RATE=${2:-4mbit}
TMP=$(mktemp -d)
go build -o "$TMP/sockit" ./cmd/sockit
go build -o "$TMP/hubload" ./bench/hubload
A=sockitfa$$ B=sockitfb$$
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
wait_at() { for _ in $(seq 500); do "$@" 2>/dev/null && return; sleep 0.02; done; echo "nothing listens: $*" >&2; exit 1; }
field() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$2"; }

# host A: 10.77.1.2, this side 10.77.1.1; host B: 10.77.2.2, this side 10.77.2.1.
ip netns add "$A"; ip netns add "$B"
ip link add "va$$" type veth peer name "vap$$"
ip link add "vb$$" type veth peer name "vbp$$"
ip link set "vap$$" netns "$A"; ip link set "vbp$$" netns "$B"
ip addr add 10.77.1.1/24 dev "va$$"; ip link set "va$$" up
ip addr add 10.77.2.1/24 dev "vb$$"; ip link set "vb$$" up
ip -n "$A" addr add 10.77.1.2/24 dev "vap$$"; ip -n "$A" link set "vap$$" up; ip -n "$A" link set lo up
ip -n "$B" addr add 10.77.2.2/24 dev "vbp$$"; ip -n "$B" link set "vbp$$" up; ip -n "$B" link set lo up
ip -n "$B" route add 10.77.1.0/24 via 10.77.2.1
# B's link is slow both ways.
tc qdisc add dev "vb$$" root tbf rate "$RATE" burst 32kbit latency 400ms
tc -n "$B" qdisc add dev "vbp$$" root tbf rate "$RATE" burst 32kbit latency 400ms

nats-server -a 10.77.1.1 -p 4222 >/dev/null 2>&1 & PIDS+=($!)
wait_at bash -c 'echo > /dev/tcp/10.77.1.1/4222'
ip netns exec "$A" "$TMP/sockit" --broker -l 10.77.1.2 8001 --federate nats://10.77.1.1:4222 </dev/null >/dev/null 2>"$TMP/a.err" & PIDS+=($!)
ip netns exec "$B" "$TMP/sockit" --broker -v -l 10.77.2.2 8001 --federate nats://10.77.1.1:4222 </dev/null >/dev/null 2>"$TMP/b.err" & PIDS+=($!)
wait_at bash -c 'echo > /dev/tcp/10.77.1.2/8001'
wait_at bash -c 'echo > /dev/tcp/10.77.2.2/8001'
sleep 0.5

echo "# $(date -u +%F) $(nproc) cores, $(uname -r); B's link: tbf $RATE; ${SECS}s per run; stamped 64-byte lines"
alone=$("$TMP/hubload" lines 10 "$SECS" 10.77.1.2:8001)
printf 'A alone:       10 receivers on A        %10s lines/s  p99 %s us\n' "$(field delivered "$alone")" "$(field p99 "$alone")"
both=$("$TMP/hubload" lines 20 "$SECS" 10.77.1.2:8001,10.77.2.2:8001)
a=$(sed -n 's/.* at 10.77.1.2:8001 \([0-9]*\).*/\1/p' <<<"$both")
b=$(sed -n 's/.* at 10.77.2.2:8001 \([0-9]*\).*/\1/p' <<<"$both")
printf 'A and slow B:  10 receivers on A        %10s lines/s  (%.2fx A alone)\n' "$a" "$(awk -v x="$a" -v y="$(field delivered "$alone")" 'BEGIN{print x / y}')"
printf '               10 receivers on B        %10s lines/s  (the link: %s)\n' "$b" "$RATE"
grep -h . "$TMP/b.err" | grep -iv 'version\|listening\|connection from\|federating' | sort | uniq -c | head -5 || true
