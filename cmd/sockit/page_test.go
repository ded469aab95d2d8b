package main

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sockit/sockit/internal/testenv"
)

// TestMonitorPage drives the monitor's live page in a real browser
// (Debian's chromium, headless, offline): three sessions appear as three
// rows with their peers, one ends and its row goes. A screenshot of the
// page is kept with the test's artifacts (go test -artifacts).
func TestMonitorPage(t *testing.T) {
	browser := testenv.Peer(t, "chromium")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "--monitor", "127.0.0.1:"+mport, "--monitor-allow-control", "-k", "-l", "127.0.0.1", port, "-c", "cat")
	waitTCP(t, "127.0.0.1:"+port)
	waitTCP(t, "127.0.0.1:"+mport)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.NoSandbox, // as root, chromium needs it off
		chromedp.DisableGPU,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), // nothing but loopback
		chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx) // no timeout: it would end the browser
	defer cancel()

	rows := func(n int) chromedp.Action[bool] {
		return chromedp.Poll[bool](`document.querySelectorAll("#sessions tr").length === `+strconv.Itoa(n),
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate("http://127.0.0.1:"+mport+"/")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	if _, err := chromedp.Run(ctx, rows(0)); err != nil {
		t.Fatalf("the empty table: %v", err)
	}
	var clients []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	if _, err := chromedp.Run(ctx, rows(3)); err != nil {
		t.Fatalf("three sessions: %v", err)
	}
	first, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#sessions tr:first-child td:nth-child(2)`)))
	if err != nil || first != clients[0].LocalAddr().String() {
		t.Errorf("the oldest row's originator is %q (%v), want the first client %s", first, err, clients[0].LocalAddr())
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(t.ArtifactDir(), "monitor.png"), shot, 0o644)
	clients[1].Close()
	if _, err := chromedp.Run(ctx, rows(2)); err != nil {
		t.Fatalf("after one client left: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("accepted").textContent === "3"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("totals: %v", err)
	}
	// With --monitor-allow-control, the oldest row's close button ends
	// the first client's session: it reads EOF, and the row goes.
	if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS(`#sessions tr:first-child button.close`))); err != nil {
		t.Fatalf("close button: %v", err)
	}
	if _, err := chromedp.Run(ctx, rows(1)); err != nil {
		t.Errorf("after the close button: %v", err)
	}
	clients[0].SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := clients[0].Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("the closed session's client read %d bytes, %v; want EOF", n, err)
	}
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
}

// TestMonitorThousandSessions: with 1,000 sessions open, /api/sessions
// lists every one and the page shows them all. How long the page took
// to show them is logged, not asserted (timing belongs in benchmarks).
func TestMonitorThousandSessions(t *testing.T) {
	browser := testenv.Peer(t, "chromium")
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	mport := testenv.FreePort(t, "tcp4", "127.0.0.1")
	srv := testenv.Start(t, nil, testenv.Binary(t), "--monitor", "127.0.0.1:"+mport, "-m", "2000", "-k", "-l", "127.0.0.1", port) // ncat's -m is 100 by default
	waitTCP(t, "127.0.0.1:"+port)
	waitTCP(t, "127.0.0.1:"+mport)
	const n = 1000
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp4", "127.0.0.1:"+port)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"), chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	start := time.Now()
	if _, err := chromedp.Run(ctx, chromedp.Navigate("http://127.0.0.1:"+mport+"/")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#sessions tr").length === `+strconv.Itoa(n),
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("%d rows: %v", n, err)
	}
	t.Logf("the page showed %d sessions %v after it was opened", n, time.Since(start).Round(time.Millisecond))
	syscall.Kill(srv.Cmd.Process.Pid, syscall.SIGTERM)
	srv.Wait(t)
}
