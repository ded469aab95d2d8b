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
// behaviour, with the built sockit binary on PATH. Scripts get $PORT and
// $PORT2 and $PORT3 (free TCP, UDP and TCP ports on 127.0.0.1) and one
// command:
//
//	waitlisten tcp|udp|unix ADDR   wait (at most 10 s) until ADDR listens
func TestScripts(t *testing.T) {
	bin := testenv.Binary(t)
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			env.Setenv("PORT", testenv.FreePort(t, "tcp4", "127.0.0.1"))
			env.Setenv("PORT2", testenv.FreePort(t, "udp4", "127.0.0.1"))
			env.Setenv("PORT3", testenv.FreePort(t, "tcp4", "127.0.0.1"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"waitlisten": waitListenCmd,
		},
	})
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
