package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// datagramPeers sends "peer i" from n separate sockets at once and returns
// what each got back (one datagram each, or the error).
func datagramPeers(t *testing.T, n int, dial func() (net.Conn, error)) []string {
	t.Helper()
	got := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := dial()
			if err != nil {
				got[i] = err.Error()
				return
			}
			defer c.Close()
			c.Write([]byte("peer " + strconv.Itoa(i) + "\n"))
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 100)
			m, err := c.Read(buf)
			if err != nil {
				got[i] = err.Error()
				return
			}
			got[i] = string(buf[:m])
			c.Write(nil) // end of stream, so the child can go
		})
	}
	wg.Wait()
	return got
}

// TestUDPKeepOpenExec: with -u -l -k -e every peer gets its own child and
// its own answers. Peers one after another, as ncat serves them; then
// peers all at once, which only sockit keeps apart (ncat's first child gets
// every peer's datagrams). sockit's children also end when their peer sends
// end of stream (ncat's stay until killed).
func TestUDPKeepOpenExec(t *testing.T) {
	sockit := testenv.Binary(t)
	for _, tool := range []string{"sockit", "ncat"} {
		t.Run(tool, func(t *testing.T) {
			bin := sockit
			if tool == "ncat" {
				bin = testenv.Peer(t, "ncat")
			}
			port := testenv.FreePort(t, "udp4", "127.0.0.1")
			srv := testenv.Start(t, nil, bin, "-v", "-u", "-lk", "127.0.0.1", port, "-e", "/bin/cat")
			srv.WaitListening(t)
			dial := func() (net.Conn, error) { return net.Dial("udp4", "127.0.0.1:"+port) }
			for i := range 3 {
				// ncat listens again after each fork; wait for it.
				for j := 0; j < 500 && tool == "ncat" && strings.Count(srv.Stderr.String(), "Listening on") < i+1; j++ {
					time.Sleep(10 * time.Millisecond)
				}
				if got := datagramPeers(t, 1, dial); got[0] != "peer 0\n" {
					t.Errorf("sequential peer %d got %q", i, got[0])
				}
			}
			if tool == "sockit" {
				got := datagramPeers(t, 20, dial)
				for i, g := range got {
					if want := "peer " + strconv.Itoa(i) + "\n"; g != want {
						t.Errorf("concurrent peer %d got %q, want %q", i, g, want)
					}
				}
				waitNoChildren(t, srv.Cmd.Process.Pid)
			}
			srv.Cmd.Process.Kill()
			srv.Wait(t)
		})
	}
}

// TestDatagramKeepOpenFanout: without -e, sockit answers every peer too
// (ncat refuses -u -k without -e): each peer's datagrams reach stdout and
// stdin reaches every peer. Over UDP and Unix datagram sockets.
func TestDatagramKeepOpenFanout(t *testing.T) {
	sockit := testenv.Binary(t)
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		dial func(i int) (net.Conn, error)
	}{
		{"udp", nil, nil},
		{"unixgram", []string{"-U", filepath.Join(dir, "srv.sock")}, func(i int) (net.Conn, error) {
			local := &net.UnixAddr{Name: filepath.Join(dir, "c"+strconv.Itoa(i)), Net: "unixgram"}
			return net.DialUnix("unixgram", local, &net.UnixAddr{Name: filepath.Join(dir, "srv.sock"), Net: "unixgram"})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			dial := tc.dial
			if args == nil {
				port := testenv.FreePort(t, "udp4", "127.0.0.1")
				args = []string{"127.0.0.1", port}
				dial = func(int) (net.Conn, error) { return net.Dial("udp4", "127.0.0.1:"+port) }
			}
			pr, pw, _ := os.Pipe()
			defer pw.Close()
			srv := testenv.Start(t, pr, append([]string{sockit, "-v", "-u", "-lk"}, args...)...)
			pr.Close()
			srv.WaitListening(t)
			var conns []net.Conn
			for i := range 3 {
				c, err := dial(i)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.Write([]byte(fmt.Sprintf("from %d\n", i)))
				conns = append(conns, c)
			}
			for i := 0; i < 500 && strings.Count(srv.Stderr.String(), "Connection from") < 3; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			pw.Write([]byte("to all\n"))
			for i, c := range conns {
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 100)
				n, err := c.Read(buf)
				if string(buf[:n]) != "to all\n" {
					t.Errorf("peer %d got %q, %v", i, buf[:n], err)
				}
			}
			for i := 0; i < 500 && strings.Count(srv.Stdout.String(), "from") < 3; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			srv.Cmd.Process.Kill()
			srv.Wait(t)
			for i := range conns {
				if !strings.Contains(srv.Stdout.String(), fmt.Sprintf("from %d\n", i)) {
					t.Errorf("stdout %q lacks peer %d", srv.Stdout.String(), i)
				}
			}
		})
	}
}

// waitNoChildren waits until pid has no child processes left.
func waitNoChildren(t *testing.T, pid int) {
	t.Helper()
	var kids []string
	for i := 0; i < 500; i++ {
		if kids = testenv.Children(t, pid); len(kids) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("children left: %v", kids)
}

// TestDatagramClientMatchesNcat: a Unix datagram client binds the path
// -s names, and under the ncat name a datagram client quits at stdin's
// EOF, as ncat does, with no answer in sight.
func TestDatagramClientMatchesNcat(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ncat")
	if err := os.Symlink(testenv.Binary(t), link); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{testenv.Peer(t, "ncat"), link} {
		dir := t.TempDir()
		server, client := filepath.Join(dir, "server.sock"), filepath.Join(dir, "client.sock")
		pc, err := net.ListenPacket("unixgram", server)
		if err != nil {
			t.Fatal(err)
		}
		p := testenv.Start(t, strings.NewReader("hi\n"), bin, "-U", "-u", "-s", client, server)
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64)
		n, from, err := pc.ReadFrom(buf)
		if err != nil || string(buf[:n]) != "hi\n" || from == nil || from.String() != client {
			t.Errorf("%s: got %q from %v (%v), want \"hi\\n\" from %s", bin, buf[:n], from, err, client)
		}
		if code := p.Wait(t); code != 0 {
			t.Errorf("%s: exit %d, stderr %s", bin, code, p.Stderr.String())
		}
		pc.Close()
	}
}
