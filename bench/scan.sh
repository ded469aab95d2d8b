#!/usr/bin/env bash
# Times a TCP connect scan of all 65535 loopback ports with sockit -z,
# OpenBSD nc -z and nmap -sT -T4, in one run, inside a fresh network
# namespace (unshare -n) where only three listeners of our own exist, and
# prints each time and the ratios.  Usage (as root): bench/scan.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
BIN=$(mktemp -d)/sockit
go build -o "$BIN" ./cmd/sockit
exec unshare -n bash -s "$BIN" "$RUNS" <<'INNER'
set -euo pipefail
BIN=$1; RUNS=$2
ip link set lo up
PIDS=()
for p in 22 8080 40000; do "$BIN" -lk 127.0.0.1 "$p" < /dev/null > /dev/null 2>&1 & PIDS+=($!); done
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
sleep 0.5
secs() { local t0 t1; t0=$(date +%s.%N); "$@" > /tmp/scan.$$ 2>&1 || true; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
printf 'scan of 65535 loopback ports in a fresh netns, %s, %s\n' "$(uname -srm)" "$(date -u +%F)"
for run in $(seq "$RUNS"); do
  s=$(secs "$BIN" -v -z 127.0.0.1 1-65535); sopen=$(grep -c "Connected to" /tmp/scan.$$ || true)
  n=$(secs nc.openbsd -z -v 127.0.0.1 1-65535); nopen=$(grep -c "succeeded" /tmp/scan.$$ || true)
  m=$(secs nmap -n -sT -T4 -p1-65535 127.0.0.1); mopen=$(grep -c "/tcp *open" /tmp/scan.$$ || true)
  printf 'run %d: sockit %.3f s (%d open)  nc %.3f s (%d open)  nmap %.3f s (%d open)  nc/sockit %.2fx  nmap/sockit %.2fx\n' \
    "$run" "$s" "$sopen" "$n" "$nopen" "$m" "$mopen" "$(echo "$n / $s" | bc -l)" "$(echo "$m / $s" | bc -l)"
done
rm -f /tmp/scan.$$
INNER
