package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creack/pty"

	"github.com/sockit/sockit/internal/testenv"
)

// runOnTerminal runs sockit with stderr on a terminal of 30 rows and 100
// columns, stdin from in and stdout captured, and returns both outputs.
func runOnTerminal(t *testing.T, in *os.File, args ...string) (stdout, terminal string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(testenv.Binary(t), args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &out, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	screen := make(chan string)
	go func() {
		b, _ := io.ReadAll(ptmx) // EIO once the last holder of the tty exits
		screen <- string(b)
	}()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String(), <-screen
}

// TestProgress: --progress draws the bytes sent against stdin's size,
// with an ETA, and the bytes received, on a terminal stderr; it never
// writes stdout, and draws nothing when stderr is no terminal.
func TestProgress(t *testing.T) {
	const size = 3 << 20
	path := filepath.Join(t.TempDir(), "file")
	os.WriteFile(path, bytes.Repeat([]byte("sockit"), size/6+1)[:size], 0o644)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello\n"))
			n, _ := io.Copy(io.Discard, c)
			c.Close()
			got <- n
		}
	}()
	host, port, _ := net.SplitHostPort(ln.Addr().String())

	in, _ := os.Open(path)
	defer in.Close()
	stdout, screen := runOnTerminal(t, in, "--progress", host, port)
	if n := <-got; n != size {
		t.Errorf("the server got %d bytes, want %d", n, size)
	}
	if stdout != "hello\n" {
		t.Errorf("stdout %q, want the server's line only", stdout)
	}
	last := screen[strings.LastIndex(screen, "sent"):]
	for _, want := range []string{"3.0 MiB / 3.0 MiB", "ETA done", "received", "6.0 b"} {
		if !strings.Contains(last, want) {
			t.Errorf("the last frame lacks %q:\n%q", want, last)
		}
	}

	in.Seek(0, io.SeekStart)
	var stderr bytes.Buffer
	cmd := exec.Command(testenv.Binary(t), "--progress", host, port)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, io.Discard, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 {
		t.Errorf("--progress with stderr a pipe: %v, stderr %q", err, stderr.String())
	}
	if n := <-got; n != size {
		t.Errorf("the server got %d bytes, want %d", n, size)
	}
}
