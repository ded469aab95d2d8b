#!/usr/bin/env bash
# Brokers federated over NATS (Debian's nats-server), in one run:
#  1. delivery across brokers vs within one: one sender, K receivers, all on
#     broker 1, or spread over brokers 1-3 (the sender on broker 1); fan-out
#     lines/s (64 KiB batches) and, one stamped line per write, lines/s and
#     delivery latency p50/p99;
#  2. scale: N idle clients (default 100,000) spread over 6 broker processes,
#     each under its own 20,000-descriptor limit, held by 6 load processes
#     from 127.0.0.x source addresses; one broadcast line from a client of
#     broker 1 must reach every one of them; each broker's RSS.
# Usage: bench/federation.sh [SECONDS per run] [IDLE CLIENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-3}
IDLE=${2:-100000}
BROKERS=6
. bench/lib.sh
build sockit hubload
BIN=$TMP/sockit
LOAD=$TMP/hubload
field() { sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$2"; }

P=${PORT:-24400}
NATS=$P
nats-server -a 127.0.0.1 -p "$NATS" >/dev/null 2>&1 & PIDS+=($!)
wait_port "$NATS"
BPIDS=()
MON=$((P + 50))
for i in $(seq "$BROKERS"); do
	mon=()
	[[ $i -le 3 ]] && mon=(--monitor "127.0.0.1:$((MON + i))") # the bus's counts; brokers 4-6 show the RSS without it
	prlimit --nofile=20000 "$BIN" --broker -l 127.0.0.1 $((P + i)) --federate "nats://127.0.0.1:$NATS" --room bench \
		"${mon[@]}" </dev/null >/dev/null 2>"$TMP/broker$i.err" & PIDS+=($!); BPIDS+=($!)
done
for i in $(seq "$BROKERS"); do wait_port $((P + i)); done
sleep 0.5 # every broker subscribed
echo "# $(date -u +%F) $(nproc) cores, $(uname -r); $(nats-server --version)"

echo "## delivery within one broker vs across three, ${SECS}s per run"
printf '%6s %-8s %14s %12s %8s %8s\n' K where fanout/s lines/s p50_us p99_us
ONE=127.0.0.1:$((P + 1))
THREE=127.0.0.1:$((P + 1)),127.0.0.1:$((P + 2)),127.0.0.1:$((P + 3))
for K in 10 100; do
	for where in one three; do
		addr=$ONE; [[ $where == three ]] && addr=$THREE
		f=$("$LOAD" fanout "$K" "$SECS" "$addr")
		l=$("$LOAD" lines "$K" "$SECS" "$addr")
		printf '%6s %-8s %14s %12s %8s %8s\n' "$K" "$where" "$(field delivered "$f")" "$(field delivered "$l")" "$(field p50 "$l")" "$(field p99 "$l")"
	done
done

echo "## the bus's counts after the fan-out runs (sockit_federation_messages_total, brokers 1-3)"
for i in 1 2 3; do
	printf 'broker %d: %s\n' "$i" "$(curl -s "http://127.0.0.1:$((MON + i))/metrics" | grep '^sockit_federation_messages_total' | sed 's/sockit_federation_messages_total//' | tr '\n' ' ')"
done

echo "## $IDLE idle clients over $BROKERS brokers, one broadcast"
before=()
for p in "${BPIDS[@]}"; do before+=("$(rss "$p")"); done
per=$((IDLE / BROKERS))
FIFOS=()
LPIDS=()
for i in $(seq "$BROKERS"); do
	mkfifo "$TMP/in$i"
	srcs=()
	for s in 0 1 2; do srcs+=("127.0.$((i + 10)).$((s + 2))"); done
	prlimit --nofile=20000 "$LOAD" idle "$per" "127.0.0.1:$((P + i))" "${srcs[@]}" < "$TMP/in$i" > "$TMP/out$i" 2>&1 & PIDS+=($!); LPIDS+=($!)
	exec {fd}>"$TMP/in$i"
	FIFOS+=("$fd")
done
start=$(date +%s.%N)
for i in $(seq "$BROKERS"); do
	until grep -q '^ready' "$TMP/out$i"; do
		grep -q hubload "$TMP/out$i" && { cat "$TMP/out$i"; exit 1; }
		sleep 0.2
	done
done
printf 'connected %d clients in %.1f s\n' $((per * BROKERS)) "$(echo "$(date +%s.%N) - $start" | bc -l)"
sleep 1 # the last joins settle
# One client of broker 1 says one line; it reaches every idle client.
sent=$(date +%s.%N)
exec {say}<>/dev/tcp/127.0.0.1/$((P + 1))
echo "broadcast" >&"$say"
total=0
for _ in $(seq 100); do
	total=0
	for i in $(seq "$BROKERS"); do echo >&"${FIFOS[$((i - 1))]}"; done
	sleep 0.1
	for i in $(seq "$BROKERS"); do
		n=$(grep '^heard' "$TMP/out$i" | tail -1 | awk '{print $2}')
		total=$((total + ${n:-0}))
	done
	[[ $total -ge $((per * BROKERS)) ]] && break
done
printf 'the broadcast reached %d of %d clients in %.2f s (polled every 0.1 s)\n' "$total" $((per * BROKERS)) "$(echo "$(date +%s.%N) - $sent" | bc -l)"
for i in $(seq "$BROKERS"); do
	p=${BPIDS[$((i - 1))]}
	m=""; [[ $i -le 3 ]] && m=" (with --monitor)"
	printf 'broker %d%s: RSS %d KiB -> %d KiB, %.2f KiB per client, %d descriptors\n' "$i" "$m" "${before[$((i - 1))]}" "$(rss "$p")" \
		"$(echo "($(rss "$p") - ${before[$((i - 1))]}) / $per" | bc -l)" "$(ls /proc/"$p"/fd | wc -l)"
done
grep -h . "$TMP"/broker*.err | sort | uniq -c | head -5 || true
