#!/usr/bin/env bash
# Times one-way bulk transfers through sockit, ncat and OpenBSD nc in one
# run, from a regular file and from a pipe, and prints each tool's rate and
# its ratio to the fastest peer.  Usage: bench/transfer.sh [SIZE_MiB]
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-4096}
BIN=$(mktemp -d)/sockit
go build -o "$BIN" ./cmd/sockit
DATA=$(mktemp /tmp/sockit-bench.XXXXXX)
trap 'rm -f "$DATA"' EXIT
head -c "$((MIB * 1024 * 1024))" /dev/zero > "$DATA"
PORT=${PORT:-47123}

# run TOOL SOURCE: prints seconds for one transfer.
run() {
  local tool=$1 src=$2 recv send
  case $tool in
    sockit) recv=("$BIN" -l 127.0.0.1 "$PORT"); send=("$BIN" 127.0.0.1 "$PORT") ;;
    ncat)   recv=(ncat -l 127.0.0.1 "$PORT");   send=(ncat 127.0.0.1 "$PORT") ;;
    nc)     recv=(nc.openbsd -l 127.0.0.1 "$PORT"); send=(nc.openbsd -N 127.0.0.1 "$PORT") ;;
  esac
  "${recv[@]}" < /dev/null > /dev/null &
  local rpid=$!
  for _ in $(seq 100); do ss -ltn | grep -q ":$PORT " && break; sleep 0.02; done
  local t0 t1
  t0=$(date +%s.%N)
  if [ "$src" = file ]; then "${send[@]}" < "$DATA" > /dev/null
  else cat "$DATA" | "${send[@]}" > /dev/null; fi
  wait "$rpid"
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

printf '%s MiB, %s, %s\n' "$MIB" "$(uname -srm)" "$(date -u +%F)"
for src in file pipe; do
  declare -A rate=()
  for tool in sockit ncat nc; do
    s=$(run "$tool" "$src")
    rate[$tool]=$(echo "$MIB / $s" | bc -l)
    printf '%-6s from %-4s %8.2f s %9.1f MiB/s\n' "$tool" "$src" "$s" "${rate[$tool]}"
  done
  best=${rate[ncat]}
  if (( $(echo "${rate[nc]} > $best" | bc -l) )); then best=${rate[nc]}; fi
  printf 'sockit / faster peer (from %s): %.2fx\n\n' "$src" "$(echo "${rate[sockit]} / $best" | bc -l)"
done
