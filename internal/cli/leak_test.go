package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

func openFDs(t *testing.T) int { return testenv.OpenFDs(t, os.Getpid()) }

// settle waits until f() reports want or 5 s pass, and returns the last value.
func settle(want int, f func() int) int {
	got := f()
	for i := 0; i < 500 && got != want; i++ {
		time.Sleep(10 * time.Millisecond)
		got = f()
	}
	return got
}

// TestKeepOpenLeaks runs the -k listener in-process: after 1,000 clients
// come and go, goroutines and descriptors are back where they started,
// and after shutdown nothing of the server is left.
func TestKeepOpenLeaks(t *testing.T) {
	startG, startFD := runtime.NumGoroutine(), openFDs(t)
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	stdin, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	var out testenv.SyncBuffer // written by the sessions while the test reads it
	var errb bytes.Buffer
	go func() {
		done <- Main(ctx, []string{"sockit", "-lk", "-m", "2000", "127.0.0.1", port}, stdin, &out, &errb)
	}()
	dial := func() net.Conn {
		for i := 0; i < 500; i++ {
			if c, err := net.Dial("tcp4", "127.0.0.1:"+port); err == nil {
				return c
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("server never listened")
		return nil
	}
	dial().Close()
	time.Sleep(50 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), openFDs(t)
	for i := 0; i < 1000; i++ {
		c := dial()
		c.Write([]byte("x"))
		c.Close()
	}
	// Every client served first: one still in the accept queue has no
	// goroutine yet, so a goroutine count alone cannot say all are done.
	settle(1000, func() int { return bytes.Count(out.Bytes(), []byte("x")) })
	if g := settle(baseG, runtime.NumGoroutine); g != baseG {
		t.Errorf("goroutines: %d with the listener up, %d after 1,000 clients", baseG, g)
	}
	if fd := settle(baseFD, func() int { return openFDs(t) }); fd != baseFD {
		t.Errorf("descriptors: %d with the listener up, %d after 1,000 clients", baseFD, fd)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d: %s", code, errb.String())
	}
	stdinW.Close()
	stdin.Close()
	// Fewer than at the start is no leak: with -count, a goroutine of the
	// run before may still have been on its way out then.
	if g := settle(startG, runtime.NumGoroutine); g > startG {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines: %d at start, %d after shutdown\n%s", startG, g, buf[:runtime.Stack(buf, true)])
	}
	if fd := settle(startFD, func() int { return openFDs(t) }); fd != startFD {
		t.Errorf("descriptors: %d at start, %d after shutdown", startFD, fd)
	}
	if got := bytes.Count(out.Bytes(), []byte("x")); got != 1000 {
		t.Errorf("stdout got %d of 1,000 client bytes", got)
	}
}

func TestParseTime(t *testing.T) {
	good := map[string]time.Duration{"500ms": 500 * time.Millisecond, "2s": 2 * time.Second, "1.5": 1500 * time.Millisecond, "2m": 2 * time.Minute, "1h": time.Hour}
	for in, want := range good {
		if got, err := parseTime(in); err != nil || got != want {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "0", "2x", "NaN", "ms", "3000000"} {
		if got, err := parseTime(in); err == nil {
			t.Errorf("parseTime(%q) = %v, want error", in, got)
		}
	}
}

func TestExpandLong(t *testing.T) {
	fs := newNcatFlags(&ncatOptions{})
	got, err := expandLong(fs, []string{"--keep", "--sh=cat", "-l", "--", "--x"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"--keep-open", "--sh-exec=cat", "-l", "--", "--x"}
	if len(got) != len(want) {
		t.Fatalf("got %q want %q", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %q want %q", got, want)
		}
	}
	if _, err := expandLong(fs, []string{"--s"}); err == nil {
		t.Error("--s is ambiguous (source, source-port, sh-exec, send-only)")
	}
}

func FuzzParseNcat(f *testing.F) {
	for _, s := range []string{"-lvnp 8001", "127.0.0.1 80", "-U /x", "-w 2s -i 500ms h 1", "--keep -l 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		o, err := parseNcat(splitFields(line))
		if err != nil {
			return
		}
		buildSpec(o) //nolint:errcheck // must not panic
	})
}

func splitFields(s string) []string {
	var out []string
	for _, f := range bytes.Fields([]byte(s)) {
		out = append(out, string(f))
	}
	return out
}
