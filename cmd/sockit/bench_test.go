package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sockit/sockit/internal/testenv"
	"github.com/sockit/sockit/loadgen"
)

var updateBench = flag.Bool("update-bench", false, "rewrite testdata/bench/*.shape.json")

// benchServer runs `sockit bench serve LISTEN` and returns the address it
// says it serves on.
func benchServer(t *testing.T, listen string) string {
	t.Helper()
	p := testenv.Start(t, nil, testenv.Binary(t), "bench", "serve", listen)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if s := p.Stderr.String(); strings.Contains(s, "\n") {
			_, on, ok := strings.Cut(strings.TrimSpace(s), " on ")
			if !ok {
				t.Fatalf("bench serve %s: %s", listen, s)
			}
			return on
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("bench serve %s did not start: %s", listen, p.Stderr.String())
	return ""
}

// bench runs `sockit bench ARGS --json` and decodes what it prints.
func bench(t *testing.T, args ...string) *loadgen.Result {
	t.Helper()
	out, err := exec.Command(testenv.Binary(t), append([]string{"bench", "--json"}, args...)...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("bench %v: %v: %s", args, err, stderr)
	}
	var res loadgen.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("bench %v: stdout is not one JSON result: %v\n%s", args, err, out)
	}
	return &res
}

// TestBenchAddresses measures over each kind of address a user names,
// each with a server of its own kind: TCP throughput both ways, TLS and
// Unix request/response, UDP with 1 % dropped, and connections through
// a real SOCKS5 proxy (microsocks). Runs are bounded by count, so what
// they moved can be checked exactly.
func TestBenchAddresses(t *testing.T) {
	microsocks := testenv.Peer(t, "microsocks")
	tcp := benchServer(t, "TCP-LISTEN:0,bind=127.0.0.1")
	tlsAddr := benchServer(t, "OPENSSL-LISTEN:0,bind=127.0.0.1")
	sock := filepath.Join(t.TempDir(), "bench.sock")
	benchServer(t, "UNIX-LISTEN:"+sock)
	udp := benchServer(t, "UDP-LISTEN:0,bind=127.0.0.1")
	socksPort := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, microsocks, "-i", "127.0.0.1", "-p", socksPort)
	waitTCP(t, "127.0.0.1:"+socksPort)

	res := bench(t, "-n", "8M", "--bidir", "-P", "2", tcp)
	if e := res.End; e.Sent != 8<<20 || e.Received != 8<<20 || e.ServerReceived != e.Sent {
		t.Errorf("tcp --bidir -n 8M: sent %d, received %d, server read %d; want 8 MiB each way", e.Sent, e.Received, e.ServerReceived)
	}
	if res.Start.Connected != 4 || res.Start.Test.Direction != "both" {
		t.Errorf("tcp --bidir -P 2: %+v", res.Start)
	}
	res = bench(t, "-R", "-n", "4M", tcp)
	if e := res.End; e.Received != 4<<20 || e.Sent != 0 {
		t.Errorf("tcp -R: sent %d, received %d", e.Sent, e.Received)
	}
	_, tlsPort, _ := strings.Cut(tlsAddr, ":")
	for _, c := range []struct{ name, addr string }{
		{"tls", "OPENSSL:127.0.0.1:" + tlsPort + ",verify=0"},
		{"unix", "UNIX:" + sock},
	} {
		res := bench(t, "-m", "rr", "-n", "300", "-c", "3", "--reply", "1-4000", c.addr)
		if e := res.End; e.Ops != 300 || e.Latency == nil || e.Latency.Count != 300 || e.Errors != 0 {
			t.Errorf("%s rr: %d ops, %d errors, latency %+v", c.name, e.Ops, e.Errors, e.Latency)
		}
	}
	res = bench(t, "-n", "10000", "--rate", "10000", "--drop", "1%", "UDP:"+udp)
	if res.Start.Test.Mode != "udp" {
		t.Errorf("a UDP address ran %q", res.Start.Test.Mode)
	}
	if u := res.End.UDP; u == nil || u.LostPercent < 0.8 || u.LostPercent > 1.2 {
		t.Errorf("udp with 1%% dropped: %+v", u)
	}
	res = bench(t, "-m", "connect", "-n", "200", "-c", "4", "TCP:"+tcp+",via=socks5://127.0.0.1:"+socksPort)
	if e := res.End; e.Ops != 200 || e.Errors != 0 || e.FirstByte == nil {
		t.Errorf("connect via socks5: %d connections, %d errors (%s)", e.Ops, e.Errors, e.FirstError)
	}
}

// shape replaces every value of a decoded JSON document by its type,
// keeping the keys: what the golden files hold. Arrays keep one element.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, x := range v {
			m[k] = shape(x)
		}
		return m
	case []any:
		if len(v) == 0 {
			return []any{}
		}
		return []any{shape(v[0])}
	case float64:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return "null"
}

// TestBenchJSONSchema holds each mode's --json to the keys and types in
// testdata/bench (go test -update-bench rewrites them): scripts and the
// report read these names.
func TestBenchJSONSchema(t *testing.T) {
	tcp := benchServer(t, "TCP-LISTEN:0,bind=127.0.0.1")
	udp := benchServer(t, "UDP-LISTEN:0,bind=127.0.0.1")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"throughput", []string{"-n", "1M", tcp}},
		{"rr", []string{"-m", "rr", "-n", "100", tcp}},
		{"connect", []string{"-m", "connect", "-n", "20", tcp}},
		{"udp", []string{"-n", "100", "--rate", "5000", "UDP:" + udp}},
	} {
		out, err := exec.Command(testenv.Binary(t), append([]string{"bench", "--json"}, c.args...)...).Output()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var doc any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatal(err)
		}
		got, _ := json.MarshalIndent(shape(doc), "", "  ")
		path := filepath.Join("testdata", "bench", c.name+".shape.json")
		if *updateBench {
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path, append(got, '\n'), 0o644)
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(bytes.TrimSpace(want)) != string(got) {
			t.Errorf("%s --json has changed shape (go test -update-bench if meant):\n%s", c.name, got)
		}
	}
}

// TestBenchStreamAndText: --json-stream prints one JSON object per line,
// intervals then the end; without --json, interval lines and a summary.
func TestBenchStreamAndText(t *testing.T) {
	tcp := benchServer(t, "TCP-LISTEN:0,bind=127.0.0.1")
	out, err := exec.Command(testenv.Binary(t), "bench", "--json-stream", "-m", "rr", "-t", "0.3", "-i", "0.1", tcp).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var kinds []string
	for _, l := range lines {
		var ev struct{ Event string }
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		kinds = append(kinds, ev.Event)
	}
	if len(kinds) < 2 || kinds[len(kinds)-1] != "end" || slices.Index(kinds, "end") != len(kinds)-1 || kinds[0] != "interval" {
		t.Errorf("--json-stream events: %v", kinds)
	}
	out, err = exec.Command(testenv.Binary(t), "bench", "-m", "rr", "-t", "0.3", "-i", "0.1", tcp).Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"closed loop", "req/s", "latency  p50", "p99.99"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

// TestBenchProgress: on a terminal the live display shows the mode, the
// elapsed time and the last interval's rate and p99; stdout gets the
// lines and summary; with --json stdout is the JSON alone.
func TestBenchProgress(t *testing.T) {
	tcp := benchServer(t, "TCP-LISTEN:0,bind=127.0.0.1")
	stdout, screen := runOnTerminal(t, nil, "bench", "-m", "rr", "-t", "1.5", "-i", "0.5", tcp)
	for _, want := range []string{"rr ", "req/s", "p99"} {
		if !strings.Contains(screen, want) {
			t.Errorf("terminal lacks %q:\n%q", want, screen)
		}
	}
	if !strings.Contains(stdout, "latency  p50") {
		t.Errorf("stdout lacks the summary:\n%s", stdout)
	}
	stdout, _ = runOnTerminal(t, nil, "bench", "--json", "-m", "rr", "-t", "0.5", tcp)
	var res loadgen.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Errorf("--json on a terminal: stdout is not JSON alone: %v\n%s", err, stdout)
	}
}

// TestBenchReport writes two results, compares them, merges them, and
// charts them as PNG, SVG and HTML; the HTML renders in headless
// chromium with its three charts and ratio table (screenshot in the
// test's artifacts).
func TestBenchReport(t *testing.T) {
	tcp := benchServer(t, "TCP-LISTEN:0,bind=127.0.0.1")
	dir := t.TempDir()
	bin := testenv.Binary(t)
	for _, name := range []string{"before", "after"} {
		out, err := exec.Command(bin, "bench", "--json", "-m", "rr", "-n", "2000", "-i", "0.05", "-c", "2", tcp).Output()
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name+".json"), out, 0o644)
	}
	a, b := filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json")

	out, err := exec.Command(bin, "bench", "compare", a, b).CombinedOutput()
	if err != nil {
		t.Fatalf("compare: %v: %s", err, out)
	}
	for _, want := range []string{"before", "after", "req/s", "p99.9", "×"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("compare lacks %q:\n%s", want, out)
		}
	}

	out, err = exec.Command(bin, "bench", "merge", a, b).Output()
	if err != nil {
		t.Fatal(err)
	}
	var merged loadgen.Result
	if err := json.Unmarshal(out, &merged); err != nil {
		t.Fatal(err)
	}
	if merged.End.Ops != 4000 || merged.End.Latency.Count != 4000 {
		t.Errorf("merged: %d ops, %d latencies; want 4000", merged.End.Ops, merged.End.Latency.Count)
	}

	for _, ext := range []string{"png", "svg", "html"} {
		path := filepath.Join(dir, "report."+ext)
		if out, err := exec.Command(bin, "bench", "report", a, b, "-o", path).CombinedOutput(); err != nil {
			t.Fatalf("report .%s: %v: %s", ext, err, out)
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) == 0 {
			t.Fatalf("report .%s: %d bytes, %v", ext, len(data), err)
		}
		switch ext {
		case "png":
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil || img.Bounds().Dy() < 3*300 {
				t.Errorf("png: %v, %v", err, img.Bounds())
			}
		case "svg":
			if err := xml.Unmarshal(data, new(struct{ XMLName xml.Name })); err != nil || !bytes.Contains(data, []byte("<svg")) {
				t.Errorf("svg: %v", err)
			}
		case "html":
			if loads := regexp.MustCompile(`(src|href)=["']?[a-z]+:|url\(|@import`).Find(data); loads != nil {
				t.Errorf("the HTML report loads from elsewhere: %s", loads)
			}
			renderHTML(t, path)
		}
	}
	if out, err := exec.Command(bin, "bench", "report", a, "-o", filepath.Join(dir, "x.pdf")).CombinedOutput(); err == nil || !strings.Contains(string(out), ".html, .svg or .png") {
		t.Errorf("report -o x.pdf: %v: %s", err, out)
	}
}

// renderHTML opens the report in headless chromium and checks what it
// shows.
func renderHTML(t *testing.T, path string) {
	browser := testenv.Peer(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"), chromedp.Flag("no-proxy-server", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1000, 1400))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	var charts, rows, runs int
	var shot []byte
	done := make(chan error, 1)
	go func() {
		_, err := chromedp.Run(ctx, chromedp.Navigate("file://"+path))
		count := func(sel string, into *int) {
			if err == nil {
				*into, err = chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("`+sel+`").length`))
			}
		}
		count("figure.chart svg", &charts)
		count("#ratios tr", &rows)
		count("h2.run", &runs)
		if err == nil {
			shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(90))
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("chromium did not render the report in 60 s")
	}
	if charts != 3 || runs != 2 || rows < 5 {
		t.Errorf("the page shows %d charts, %d runs, %d ratio rows; want 3, 2 and a header and a row per figure", charts, runs, rows)
	}
	os.WriteFile(filepath.Join(t.ArtifactDir(), "bench-report.png"), shot, 0o644)
}

// TestBenchErrors: bad flags and addresses exit 2 with one line; a
// server that is not there exits 1 with one line.
func TestBenchErrors(t *testing.T) {
	closed := "127.0.0.1:" + testenv.FreePort(t, "tcp4", "127.0.0.1")
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"bench"}, 2, "one address"},
		{[]string{"bench", "-m", "nap", closed}, 2, "mode"},
		{[]string{"bench", "-x", closed}, 2, "unknown shorthand"},
		{[]string{"bench", "-n", "lots", closed}, 2, "not a count"},
		{[]string{"bench", "--drop", "150%", "UDP:" + closed}, 2, "share"},
		{[]string{"bench", "-R", "--bidir", closed}, 2, "pick one"},
		{[]string{"bench", "-t", "1", closed}, 1, "connection refused"},
		{[]string{"bench", "serve", "TCP-LISTEN:bogus"}, 1, "bogus"},
		{[]string{"bench", "compare", "nofile.json"}, 2, "two results"},
	} {
		cmd := exec.Command(testenv.Binary(t), c.args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Run()
		msg := stderr.String()
		if cmd.ProcessState.ExitCode() != c.code || strings.Count(msg, "\n") != 1 || !strings.Contains(strings.ToLower(msg), c.says) {
			t.Errorf("%v: exit %d, %q; want exit %d and one line saying %q", c.args, cmd.ProcessState.ExitCode(), msg, c.code, c.says)
		}
	}
}

// TestBenchInterrupted: ^C ends a run early with what it measured
// printed, as iperf3 does, and a non-zero exit.
func TestBenchInterrupted(t *testing.T) {
	tcp := benchServer(t, "TCP-LISTEN:0,bind=127.0.0.1")
	p := testenv.Start(t, nil, testenv.Binary(t), "bench", "-m", "rr", "-t", "60", "-i", "0.1", tcp)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(p.Stdout.String(), "req/s"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no interval line: %s", p.Stderr.String())
		}
	}
	p.Cmd.Process.Signal(os.Interrupt)
	if code := p.Wait(t); code == 0 {
		t.Error("an interrupted run exited 0")
	}
	if out := p.Stdout.String(); !strings.Contains(out, "latency  p50") {
		t.Errorf("no summary after ^C:\n%s", out)
	}
}
