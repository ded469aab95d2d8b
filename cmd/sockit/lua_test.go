package main

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// luaScript is a script under testdata/lua.
func luaScript(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "lua", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// talk connects to addr, sends msg, half-closes (unless msg is "") and
// returns all it reads.
func talk(t *testing.T, addr, msg string) (reply string, local *net.TCPAddr) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if msg != "" {
		io.WriteString(c, msg)
		c.(*net.TCPConn).CloseWrite()
	}
	b, _ := io.ReadAll(c)
	return string(b), c.LocalAddr().(*net.TCPAddr)
}

// TestLuaExecRefusesAsNcat: a script that cannot load and two exec
// options are refused before any connection, with ncat's line and status.
func TestLuaExecRefusesAsNcat(t *testing.T) {
	ncat := testenv.Peer(t, "ncat")
	asNcat := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), asNcat); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	tests := []struct {
		name string
		args []string
		same bool // the whole stderr is ncat's, not only its start
	}{
		{"two execs", []string{"--lua-exec", luaScript(t, "env.lua"), "-e", "cat"}, true},
		{"sh-exec too", []string{"-c", "cat", "--lua-exec", luaScript(t, "env.lua")}, true},
		{"missing script", []string{"--lua-exec", filepath.Join(t.TempDir(), "none.lua")}, true},
		{"syntax error", []string{"--lua-exec", luaScript(t, "syntax.lua")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out [2]string
			var code [2]int
			for i, bin := range []string{ncat, asNcat} {
				p := testenv.Start(t, nil, append(append([]string{bin, "-l"}, tt.args...), "127.0.0.1", port)...)
				code[i] = p.Wait(t)
				out[i] = p.Stderr.String()
			}
			if code[0] != code[1] || code[1] != 2 {
				t.Errorf("exit: ncat %d, sockit %d", code[0], code[1])
			}
			if tt.same && out[0] != out[1] {
				t.Errorf("ncat said %q\nsockit     %q", out[0], out[1])
			}
			const lead = "Ncat: Error loading the Lua script: "
			if !tt.same && (!strings.HasPrefix(out[0], lead) || !strings.HasPrefix(out[1], lead) || strings.Count(out[1], "\n") != 1) {
				t.Errorf("ncat said %q\nsockit     %q", out[0], out[1])
			}
		})
	}
}

// TestLuaExec: --lua-exec runs a script per connection, its stdin and
// stdout the connection and ncat's NCAT_* variables in its environment,
// in listen mode (with -k, for one client after another) and in connect
// mode; a script's error or os.exit ends its session only. ncat's own
// client and server see the same environment line from sockit as from
// ncat (ncat loses what a script writes with io.write unless it
// flushes, so only print's line is compared).
func TestLuaExec(t *testing.T) {
	ncat := testenv.Peer(t, "ncat")
	sockit := testenv.Binary(t)
	asNcat := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(sockit, asNcat); err != nil {
		t.Fatal(err)
	}

	t.Run("environment", func(t *testing.T) {
		for _, bin := range []string{ncat, asNcat, sockit} {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			p := testenv.Start(t, nil, bin, "-v", "-l", "--lua-exec", luaScript(t, "env.lua"), "127.0.0.1", port)
			p.WaitListening(t)
			reply, local := talk(t, "127.0.0.1:"+port, "")
			want := strings.Join([]string{"127.0.0.1", strconv.Itoa(local.Port), "127.0.0.1", port, "TCP"}, "\t") + "\n"
			if reply != want {
				t.Errorf("%s: the script printed %q, want %q", filepath.Base(bin), reply, want)
			}
			p.Wait(t)
		}
	})

	t.Run("keep-open", func(t *testing.T) {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		p := testenv.Start(t, nil, asNcat, "-v", "-l", "-k", "--lua-exec", luaScript(t, "upper.lua"), "127.0.0.1", port)
		p.WaitListening(t)
		for _, msg := range []string{"one\ntwo\n", "three\n", "\n"} {
			want := "hello TCP\n" + strings.ToUpper(msg) + "bye\n"
			if reply, _ := talk(t, "127.0.0.1:"+port, msg); reply != want {
				t.Errorf("sent %q, got %q, want %q", msg, reply, want)
			}
		}
		// Sessions run side by side: one held open does not stop the next.
		held, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		if reply, _ := talk(t, "127.0.0.1:"+port, "four\n"); reply != "hello TCP\nFOUR\nbye\n" {
			t.Errorf("after three sessions: %q", reply)
		}
		if p.Exited() {
			t.Fatalf("the -k server ended: %s", p.Stderr.String())
		}
	})

	t.Run("errors end one session", func(t *testing.T) {
		for _, tt := range []struct{ script, reply, stderr string }{
			{"boom.lua", "before\n", "Ncat: Error running the Lua script: " + luaScript(t, "boom.lua") + ":2: boom.\n"},
			{"exit.lua", "leaving\n", ""},
		} {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			p := testenv.Start(t, nil, asNcat, "-l", "-k", "--lua-exec", luaScript(t, tt.script), "127.0.0.1", port)
			waitTCP(t, "127.0.0.1:"+port)
			for i := 0; i < 2; i++ {
				if reply, _ := talk(t, "127.0.0.1:"+port, ""); reply != tt.reply {
					t.Errorf("%s, session %d: %q, want %q", tt.script, i, reply, tt.reply)
				}
			}
			if p.Exited() {
				t.Errorf("%s: the -k server ended: %s", tt.script, p.Stderr.String())
			}
			for i := 0; i < 100 && strings.Count(p.Stderr.String(), "\n") < 2*strings.Count(tt.stderr, "\n"); i++ {
				time.Sleep(20 * time.Millisecond)
			}
			if got := p.Stderr.String(); got != tt.stderr+tt.stderr {
				t.Errorf("%s: stderr %q, want %q twice", tt.script, got, tt.stderr)
			}
		}
	})

	t.Run("connect", func(t *testing.T) {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		server := testenv.Start(t, strings.NewReader("a\nb\n"), ncat, "-v", "-l", "127.0.0.1", port)
		server.WaitListening(t)
		client := testenv.Start(t, nil, asNcat, "--lua-exec", luaScript(t, "upper.lua"), "127.0.0.1", port)
		if code := client.Wait(t); code != 0 {
			t.Errorf("client exit %d: %s", code, client.Stderr.String())
		}
		server.Wait(t)
		if got, want := server.Stdout.String(), "hello TCP\nA\nB\nbye\n"; got != want {
			t.Errorf("ncat's server read %q, want %q", got, want)
		}
	})
}

// TestDebugLinesMatchNcat: at -vv, sockit under ncat's name says what
// ncat's debug level says, in its "NCAT DEBUG:" shape: stdin's EOF, the
// command it starts, the connection it closes (descriptor numbers aside).
func TestDebugLinesMatchNcat(t *testing.T) {
	ncat := testenv.Peer(t, "ncat")
	asNcat := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), asNcat); err != nil {
		t.Fatal(err)
	}
	fd := regexp.MustCompile(`fd [0-9]+`)
	tests := []struct {
		name string
		args []string
	}{
		{"stdin ends", nil},
		{"exec", []string{"-e", "/bin/echo x"}},
		{"sh-exec", []string{"-c", "echo x"}},
		{"lua-exec", []string{"--lua-exec", luaScript(t, "env.lua")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2][]string
			for i, bin := range []string{ncat, asNcat} {
				port := testenv.FreePort(t, "tcp4", "127.0.0.1")
				p := testenv.Start(t, strings.NewReader("hi\n"), append(append([]string{bin, "-vv", "-l"}, tt.args...), "127.0.0.1", port)...)
				p.WaitListening(t)
				c, err := net.Dial("tcp", "127.0.0.1:"+port)
				if err != nil {
					t.Fatal(err)
				}
				c.SetDeadline(time.Now().Add(5 * time.Second))
				io.ReadAll(c) // the listener's stdin or its command's output, to its end
				c.Close()
				p.Wait(t)
				for _, l := range strings.Split(p.Stderr.String(), "\n") {
					if strings.HasPrefix(l, "NCAT DEBUG: ") && !strings.Contains(l, "returned successfully") && !strings.Contains(l, "trusted CA") {
						got[i] = append(got[i], fd.ReplaceAllString(l, "fd N"))
					}
				}
				slices.Sort(got[i])
			}
			if !slices.Equal(got[0], got[1]) || len(got[0]) == 0 {
				t.Errorf("ncat's debug lines %q\nsockit's          %q", got[0], got[1])
			}
		})
	}
}
