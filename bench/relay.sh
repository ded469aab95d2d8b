#!/usr/bin/env bash
# Throughput and latency through a TCP relay, in one run: iperf3 direct,
# through `sockit relay TCP-LISTEN:A,fork TCP:127.0.0.1:B`, through socat
# and through `ncat --sh-exec`; then 64-byte round trips (p50/p99) through
# each, taking turns. Each round runs every path once; the summary gives
# the median of sockit's per-round ratios. Prints every figure.
# Usage: bench/relay.sh [SECONDS per iperf3 run] [ROUNDS]
# With BASE=REV, sockit as built at git revision REV runs too ("base"),
# and the summary gives this tree's ratios to it: before and after.
# With SOCKMAP=1 (root), bench/sockmap runs too: the kernel's own
# forwarding (a BPF sockmap with an sk_skb verdict program), issue 16's
# experiment, and the summary gives its ratios to direct, socat and sockit.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
ROUNDS=${2:-3}
. bench/lib.sh
build sockit rtt
BIN=$TMP/sockit
TOOLS=(sockit socat ncat)
if [ -n "${BASE:-}" ]; then
  build_base "$BASE"
  TOOLS=(sockit base socat ncat)
fi
if [ -n "${SOCKMAP:-}" ]; then
  build sockmap
  TOOLS+=(sockmap)
fi

# Ports below the ephemeral range, so client sockets never hold them.
P=${PORT:-24100}
IPERF=$P; ECHO=$((P + 1))

# relays NAME LISTEN_PORT TARGET_PORT
relay() {
  case $1 in
    sockit) "$BIN" relay -d -d -d "TCP4-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$3" > /dev/null 2> "$TMP/sockit-$2.log" &
            PIDS+=($!) ;; # -d -d -d: each session's path, printed at the end
    base)   start "$TMP/sockit-base" relay "TCP4-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$3" ;;
    socat)  start socat "TCP4-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$3" ;;
    ncat)   start ncat -lk 127.0.0.1 "$2" --sh-exec "exec ncat 127.0.0.1 $3" ;;
    sockmap) start "$TMP/sockmap" "127.0.0.1:$2" "127.0.0.1:$3" ;;
  esac
  wait_port "$2"
}

start iperf3 -s -p "$IPERF"
start "$TMP/rtt" echo "127.0.0.1:$ECHO"
wait_port "$IPERF"; wait_port "$ECHO"
declare -A port=([direct]=$IPERF) rport=([direct]=$ECHO)
n=2
for tool in "${TOOLS[@]}"; do
  port[$tool]=$((P + n)); rport[$tool]=$((P + n + 1)); n=$((n + 2))
  relay "$tool" "${port[$tool]}" "$IPERF"
  relay "$tool" "${rport[$tool]}" "$ECHO"
done

printf 'relay bench, %s rounds, %s s per iperf3 run, %s, %s\n' "$ROUNDS" "$SECS" "$(uname -srm)" "$(date -u +%F)"
ratio() { echo "$1 / $2" | bc -l; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
declare -A gbps
tput_direct=() tput_socat=() p50_socat=() p99_socat=() tput_base=() p50_base=() p99_base=()
sm_direct=() sm_sockit=() sm_p50=() sm_p99=() sm_p99_sockit=()
for round in $(seq "$ROUNDS"); do
  echo "round $round"
  for tool in direct "${TOOLS[@]}"; do
    out=$(iperf3 -c 127.0.0.1 -p "${port[$tool]}" -t "$SECS" -f g)
    gbps[$tool]=$(echo "$out" | awk '/receiver/ {print $(NF-2)}')
  done
  for tool in direct "${TOOLS[@]}"; do
    printf '  %-7s %8.2f Gbit/s  %5.2fx direct\n' "$tool" "${gbps[$tool]}" "$(ratio "${gbps[$tool]}" "${gbps[direct]}")"
  done
  tput_direct+=("$(ratio "${gbps[sockit]}" "${gbps[direct]}")")
  tput_socat+=("$(ratio "${gbps[sockit]}" "${gbps[socat]}")")
  [ -n "${BASE:-}" ] && tput_base+=("$(ratio "${gbps[sockit]}" "${gbps[base]}")")
  # Round trips: the four paths take turns, 100 round trips at a time.
  addrs=() names=""
  for tool in direct "${TOOLS[@]}"; do
    addrs+=("127.0.0.1:${rport[$tool]}")
    names+="s/^127.0.0.1:${rport[$tool]} /$(printf '%-7s ' "$tool")/;"
  done
  rtt=$("$TMP/rtt" ping 20000 "${addrs[@]}" | sed "$names")
  echo "$rtt" | sed 's/^/  /'
  us() { echo "$rtt" | awk -v t="$1" -v q="$2" '$1 == t { for (i = 2; i < NF; i++) if ($i == q) print $(i+1) }'; }
  p50_socat+=("$(ratio "$(us sockit p50)" "$(us socat p50)")")
  p99_socat+=("$(ratio "$(us sockit p99)" "$(us socat p99)")")
  if [ -n "${BASE:-}" ]; then
    p50_base+=("$(ratio "$(us sockit p50)" "$(us base p50)")")
    p99_base+=("$(ratio "$(us sockit p99)" "$(us base p99)")")
  fi
  if [ -n "${SOCKMAP:-}" ]; then
    sm_direct+=("$(ratio "${gbps[sockmap]}" "${gbps[direct]}")")
    sm_sockit+=("$(ratio "${gbps[sockmap]}" "${gbps[sockit]}")")
    sm_p50+=("$(ratio "$(us sockmap p50)" "$(us socat p50)")")
    sm_p99+=("$(ratio "$(us sockmap p99)" "$(us socat p99)")")
    sm_p99_sockit+=("$(ratio "$(us sockmap p99)" "$(us sockit p99)")")
  fi
done
printf '\nsockit sessions by path: %s\n' "$(grep -ho 'went through .*' "$TMP"/sockit-*.log | sort | uniq -c | sed 's/^ *//' | paste -sd ';' -)"
printf '\nmedians over %s rounds (each round one run per path, side by side):\n' "$ROUNDS"
printf '  sockit throughput: %.2fx direct, %.2fx socat\n' \
  "$(printf '%s\n' "${tput_direct[@]}" | median)" "$(printf '%s\n' "${tput_socat[@]}" | median)"
printf '  sockit round trip: p50 %.2fx socat, p99 %.2fx socat (below 1 is faster)\n' \
  "$(printf '%s\n' "${p50_socat[@]}" | median)" "$(printf '%s\n' "${p99_socat[@]}" | median)"
if [ -n "${BASE:-}" ]; then
  printf '  against %s: throughput %.2fx, round trip p50 %.2fx, p99 %.2fx\n' "$BASE" \
    "$(printf '%s\n' "${tput_base[@]}" | median)" "$(printf '%s\n' "${p50_base[@]}" | median)" "$(printf '%s\n' "${p99_base[@]}" | median)"
fi
if [ -n "${SOCKMAP:-}" ]; then
  printf '  sockmap throughput: %.2fx direct, %.2fx sockit\n' \
    "$(printf '%s\n' "${sm_direct[@]}" | median)" "$(printf '%s\n' "${sm_sockit[@]}" | median)"
  printf '  sockmap round trip: p50 %.2fx socat, p99 %.2fx socat, p99 %.2fx sockit\n' \
    "$(printf '%s\n' "${sm_p50[@]}" | median)" "$(printf '%s\n' "${sm_p99[@]}" | median)" "$(printf '%s\n' "${sm_p99_sockit[@]}" | median)"
fi
