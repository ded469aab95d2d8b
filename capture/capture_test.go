package capture

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/internal/testenv"
)

// parsed is a block read back.
type parsed struct {
	typ  uint32
	body []byte
}

// readBlocks reads a pcapng file back block by block, checking each
// block's framing: both lengths agree, and bodies are 32-bit aligned.
func readBlocks(t *testing.T, b []byte) []parsed {
	t.Helper()
	var out []parsed
	for len(b) > 0 {
		if len(b) < 12 {
			t.Fatalf("%d trailing bytes", len(b))
		}
		typ, n := binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint32(b[4:])
		if n%4 != 0 || int(n) > len(b) || n < 12 {
			t.Fatalf("block %#x: length %d of %d left", typ, n, len(b))
		}
		if binary.LittleEndian.Uint32(b[n-4:]) != n {
			t.Fatalf("block %#x: trailing length differs", typ)
		}
		out = append(out, parsed{typ, b[8 : n-4]})
		b = b[n:]
	}
	return out
}

// options reads a block's options from off on.
func options(t *testing.T, b []byte) map[uint16][]byte {
	t.Helper()
	m := map[uint16][]byte{}
	for len(b) >= 4 {
		code, n := binary.LittleEndian.Uint16(b), int(binary.LittleEndian.Uint16(b[2:]))
		if code == 0 {
			return m
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(b) {
			t.Fatalf("option %d overruns its block", code)
		}
		m[code] = b[4 : 4+n]
		b = b[4+padded:]
	}
	return m
}

// TestReadBack writes every kind of block and reads each back: the
// section header, interfaces with their names, frames with their
// interface, time and packet, a secrets block and the statistics.
func TestReadBack(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, "sockit test")
	if err != nil {
		t.Fatal(err)
	}
	a := w.Interface("client", "127.0.0.1:40000 → sockit")
	bID := w.Interface("upstream", "exec /bin/cat")
	w.Secrets([]byte("CLIENT_RANDOM 00 11\n"))
	t0 := time.Unix(1700000000, 123456789)
	f := w.TCP(a, netip.MustParseAddrPort("127.0.0.1:40000"), netip.MustParseAddrPort("127.0.0.1:8080"), t0)
	f.Data(true, []byte("hello"), t0.Add(time.Millisecond))
	u := w.UDP(bID, netip.MustParseAddrPort("[::1]:5353"), netip.MustParseAddrPort("[::1]:53"))
	u.Data(false, []byte("dgram"), t0.Add(2*time.Millisecond))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	blocks := readBlocks(t, buf.Bytes())
	var types []string
	for _, b := range blocks {
		types = append(types, fmt.Sprintf("%#x", b.typ))
	}
	want := "0xa0d0d0a 0x1 0x1 0xa 0x6 0x6 0x6 0x6 0x6 0x5 0x5"
	if got := strings.Join(types, " "); got != want {
		t.Fatalf("blocks %s, want %s", got, want)
	}
	shb := blocks[0].body
	if binary.LittleEndian.Uint32(shb) != byteOrderMagic || string(options(t, shb[16:])[optShbApp]) != "sockit test" {
		t.Errorf("section header %x", shb)
	}
	idb := options(t, blocks[2].body[8:])
	if string(idb[optIfName]) != "upstream" || string(idb[optIfDescr]) != "exec /bin/cat" || !bytes.Equal(idb[optIfTsresol], []byte{9}) {
		t.Errorf("interface options %v", idb)
	}
	dsb := blocks[3].body
	if binary.LittleEndian.Uint32(dsb) != secretsTLSKeyLog || string(dsb[8:8+binary.LittleEndian.Uint32(dsb[4:])]) != "CLIENT_RANDOM 00 11\n" {
		t.Errorf("secrets block %q", dsb)
	}
	data := blocks[7].body // the frame after the handshake
	ns := uint64(binary.LittleEndian.Uint32(data[4:]))<<32 | uint64(binary.LittleEndian.Uint32(data[8:]))
	pkt := data[20 : 20+binary.LittleEndian.Uint32(data[12:])]
	if binary.LittleEndian.Uint32(data) != uint32(a) || ns != uint64(t0.Add(time.Millisecond).UnixNano()) || string(pkt[40:]) != "hello" {
		t.Errorf("frame: interface %d, time %d, packet %x", binary.LittleEndian.Uint32(data), ns, pkt)
	}
	udp := blocks[8].body
	if binary.LittleEndian.Uint32(udp) != uint32(bID) || !strings.HasSuffix(string(udp[20:20+binary.LittleEndian.Uint32(udp[12:])]), "dgram") {
		t.Errorf("datagram frame %x", udp)
	}
	isb := options(t, blocks[9].body[12:])
	if binary.LittleEndian.Uint64(isb[optIsbRecv]) != 4 || binary.LittleEndian.Uint64(isb[optIsbDrop]) != 0 {
		t.Errorf("interface 0 statistics %x", isb)
	}
}

// TestDropsInsteadOfWaiting: a writer that cannot keep up loses frames,
// counts them, and the session's calls return at once.
func TestDropsInsteadOfWaiting(t *testing.T) {
	stuck := &stuckWriter{release: make(chan struct{})}
	w, err := NewWriter(stuck, "sockit")
	if err != nil {
		t.Fatal(err)
	}
	id := w.Interface("client", "")
	f := w.TCP(id, netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2"), time.Now())
	chunk := make([]byte, 60000)
	for i := 0; i < 1000; i++ { // 60 MB into a 16 MiB queue
		f.Data(true, chunk, time.Now())
	}
	if w.Dropped() == 0 {
		t.Error("nothing dropped while the file could not be written")
	}
	close(stuck.release)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

type stuckWriter struct {
	release chan struct{}
	n       int
}

func (s *stuckWriter) Write(p []byte) (int, error) {
	<-s.release
	s.n += len(p)
	return len(p), nil
}

// TestWiresharkReadsIt: tshark reads a capture of TCP over IPv4 and
// IPv6 and of UDP without a malformed frame or a bad checksum, and
// follow,tcp,raw gives back exactly the bytes each side sent.
func TestWiresharkReadsIt(t *testing.T) {
	tshark := testenv.Peer(t, "tshark")
	file := filepath.Join(t.TempDir(), "c.pcapng")
	out, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(out, "sockit test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tick := func() time.Time { now = now.Add(time.Microsecond); return now }
	sent := map[string][2][]byte{}
	flows := []struct{ orig, resp string }{{"127.0.0.1:40000", "127.0.0.1:8080"}, {"[::1]:40001", "[::1]:8081"}}
	for i, fl := range flows {
		id := w.Interface(fmt.Sprintf("side%d", i), "")
		f := w.TCP(id, netip.MustParseAddrPort(fl.orig), netip.MustParseAddrPort(fl.resp), tick())
		var up, down []byte
		for j := 0; j < 5; j++ {
			p := random(t, 1+j*40000) // up to 160 KB: several segments
			f.Data(true, p, tick())
			up = append(up, p...)
			q := random(t, 7+j)
			f.Data(false, q, tick())
			down = append(down, q...)
		}
		f.FIN(true, tick())
		f.FIN(false, tick())
		sent[fmt.Sprint(i)] = [2][]byte{up, down}
	}
	u := w.UDP(w.Interface("udp", ""), netip.MustParseAddrPort("127.0.0.1:47000"), netip.MustParseAddrPort("127.0.0.1:47001"))
	u.Data(true, []byte("query"), tick())
	u.Data(false, []byte("answer"), tick())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	bad, err := exec.Command(tshark, "-r", file, "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
		"-o", "ip.check_checksum:TRUE", "-d", "udp.port==47000,data", "-Y", "_ws.malformed || _ws.expert.severity >= error || tcp.analysis.flags && !tcp.analysis.window_update").Output()
	if err != nil || len(bytes.TrimSpace(bad)) != 0 {
		t.Errorf("tshark flags frames (%v):\n%s", err, bad)
	}
	for i := range flows {
		raw, err := exec.Command(tshark, "-r", file, "-q", "-z", fmt.Sprintf("follow,tcp,raw,%d", i)).Output()
		if err != nil {
			t.Fatal(err)
		}
		up, down := followed(t, string(raw))
		if !bytes.Equal(up, sent[fmt.Sprint(i)][0]) || !bytes.Equal(down, sent[fmt.Sprint(i)][1]) {
			t.Errorf("stream %d: tshark follows %d and %d bytes, sent %d and %d", i, len(up), len(down), len(sent[fmt.Sprint(i)][0]), len(sent[fmt.Sprint(i)][1]))
		}
	}
	udp, _ := exec.Command(tshark, "-r", file, "-Y", "udp", "-T", "fields", "-e", "udp.payload").Output()
	if got := strings.Fields(string(udp)); len(got) != 2 || got[0] != hex.EncodeToString([]byte("query")) || got[1] != hex.EncodeToString([]byte("answer")) {
		t.Errorf("udp payloads %q", got)
	}
}

// followed splits tshark's follow,tcp,raw output into what each side
// sent (the responder's lines are indented with a tab).
func followed(t *testing.T, out string) (orig, resp []byte) {
	t.Helper()
	body := out[strings.Index(out, "Node 1:"):]
	body = body[strings.Index(body, "\n")+1:]
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "====") || line == "" {
			continue
		}
		b, err := hex.DecodeString(strings.TrimPrefix(line, "\t"))
		if err != nil {
			t.Fatalf("follow line %q: %v", line, err)
		}
		if strings.HasPrefix(line, "\t") {
			resp = append(resp, b...)
		} else {
			orig = append(orig, b...)
		}
	}
	return orig, resp
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// BenchmarkData: what one 32 KiB chunk costs a session (the copy and
// the queue) and the writer (headers, checksums, the write), to a
// writer that discards.
func BenchmarkData(b *testing.B) {
	w, err := NewWriter(io.Discard, "bench")
	if err != nil {
		b.Fatal(err)
	}
	f := w.TCP(w.Interface("a", ""), netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2"), time.Now())
	chunk := make([]byte, 32<<10)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		f.Data(true, chunk, time.Now())
	}
	w.Close()
	b.ReportMetric(float64(w.Dropped()), "dropped")
}
