package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sockit/sockit/internal/testenv"
)

// TestScripts runs testdata/script/*.txtar: one script per user-visible
// behaviour, with the built sockit binary on PATH, and before it a link
// named socat to it (so "exec socat" is the socat link, as a user who
// installed the links gets; socat-examples-*.txtar run socat's own
// EXAMPLES through it). Scripts get $PORT and
// $PORT2 and $PORT3 (free TCP, UDP and TCP ports on 127.0.0.1) and one
// command:
//
//	waitlisten tcp|udp|unix ADDR   wait (at most 10 s) until ADDR listens
func TestScripts(t *testing.T) {
	testscript.Run(t, scriptParams(t, testenv.Binary(t), nil))
}

// TestSocatExamplesMatchSocat runs the socat-examples-*.txtar scripts with
// Debian's socat as "socat": they pass with the real socat too, so what
// they check is socat's behaviour, not sockit's idea of it.
func TestSocatExamplesMatchSocat(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "script", "socat-examples-*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no socat example scripts: %v", err)
	}
	testscript.Run(t, scriptParams(t, testenv.Peer(t, "socat"), files))
}

// scriptParams runs the scripts (files, or every one) with sockit on PATH
// and socat, a link to it, before it.
func scriptParams(t *testing.T, socat string, files []string) testscript.Params {
	bin := testenv.Binary(t)
	links := t.TempDir()
	if err := os.Symlink(socat, filepath.Join(links, "socat")); err != nil {
		t.Fatal(err)
	}
	return testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		Files:               files,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", links+string(os.PathListSeparator)+filepath.Dir(bin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("PORT", testenv.FreePort(t, "tcp4", "127.0.0.1"))
			env.Setenv("PORT2", testenv.FreePort(t, "udp4", "127.0.0.1"))
			env.Setenv("PORT3", testenv.FreePort(t, "tcp4", "127.0.0.1"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitlisten": waitListenCmd,
		},
		Condition: func(cond string) (bool, error) {
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	}
}

// waitListenCmd waits until a socket listens at the address, reading
// /proc so that it never takes the one connection a server accepts.
func waitListenCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitlisten tcp|udp|unix ADDR")
	}
	network, addr := args[0], args[1]
	abs := addr
	if network == "unix" && !strings.HasPrefix(addr, "@") {
		abs = ts.MkAbs(addr) // /proc shows the path as the server gave it
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if listening(network, addr) || listening(network, abs) {
			return
		}
	}
	ts.Fatalf("nothing listens at %s %s", network, addr)
}

// listening looks for a listening socket in /proc/net: TCP in state LISTEN
// on the port, UDP bound to the port, or a Unix socket accepting on path.
func listening(network, addr string) bool {
	if network == "unix" {
		b, _ := os.ReadFile("/proc/net/unix")
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			// Num RefCount Protocol Flags Type St Inode Path; flag 00010000 = accepting.
			if len(f) == 8 && f[7] == addr && (f[3] == "00010000" || f[4] == "0002") {
				return true
			}
		}
		return false
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return false
	}
	suffix := fmt.Sprintf(":%04X", n)
	for _, file := range []string{"/proc/net/" + network, "/proc/net/" + network + "6"} {
		b, _ := os.ReadFile(file)
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			// sl local_address rem_address st ...; st 0A = LISTEN, 07 = UDP bound.
			if len(f) > 3 && strings.HasSuffix(f[1], suffix) && (f[3] == "0A" || network == "udp") {
				return true
			}
		}
	}
	return false
}
