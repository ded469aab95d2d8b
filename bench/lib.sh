# Sourced by the bench scripts (from the repository's root): a scratch
# directory $TMP, the tools named by `build` compiled into it, and every
# process a script adds to PIDS ended, by PID, when it exits.
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# build sockit rtt hubload ...: sockit from cmd/sockit, the rest from bench/.
build() {
	for t in "$@"; do
		if [[ $t == sockit ]]; then go build -o "$TMP/sockit" ./cmd/sockit; else go build -o "$TMP/$t" "./bench/$t"; fi
	done
}

# build_base REV: sockit as built at git revision REV, as $TMP/sockit-base,
# for a before-and-after in one run.
build_base() {
	git worktree add -q --detach "$TMP/base" "$1"
	(cd "$TMP/base" && go build -o "$TMP/sockit-base" ./cmd/sockit)
	git worktree remove --force "$TMP/base"
}

# start CMD...: run CMD in the background, quiet, to be ended on exit.
start() { "$@" > /dev/null 2>&1 & PIDS+=($!); }

# wait_port PORT: wait (10 s at most) until something listens on TCP PORT.
wait_port() { for _ in $(seq 500); do ss -ltn | grep -q ":$1 " && return; sleep 0.02; done; echo "nothing on $1" >&2; exit 1; }

# rss PID: the process's resident set in KiB.
rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
