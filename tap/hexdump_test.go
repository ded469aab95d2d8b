package tap

import (
	"strings"
	"testing"
	"time"

	"github.com/sockit/sockit/events"
)

// the taps are what the engine's observers may be
var (
	_ events.Tap = (*Log)(nil)
	_ events.Tap = (*NetcatDump)(nil)
	_ events.Tap = (*SocatLog)(nil)
	_ events.Tap = (*Raw)(nil)
)

func chunk(uid string, aToB bool, p string) events.Chunk {
	return events.Chunk{UID: uid, AToB: aToB, ToNet: aToB, Data: []byte(p)}
}

// The expected text was written by ncat 7.93 -x for the same bytes.
func TestHexDumpMatchesNcat(t *testing.T) {
	got := HexDump([]byte("hello from server\n"))
	want := "0000   68 65 6c 6c 6f 20 66 72  6f 6d 20 73 65 72 76 65  hello.from.serve\n" +
		"0010   72 0a                                             r.              \n"
	if got != want {
		t.Errorf("HexDump =\n%q\nwant\n%q", got, want)
	}
}

func TestSocatLog(t *testing.T) {
	at := time.Date(2026, 11, 24, 21, 7, 1, 797285123, time.UTC) // socat prints .797285 s as .000797285
	var b strings.Builder
	l := &SocatLog{W: &b, Text: true, Now: func() time.Time { return at }}
	l.Data(chunk("C1", true, "hello\nworld\x01\n"))
	l.Data(chunk("C1", false, "hi"))
	l.Data(chunk("C1", true, "again\n"))
	want := "> 2026/11/24 21:07:01.000797285  length=13 from=0 to=12\nhello\nworld.\n" +
		"< 2026/11/24 21:07:01.000797285  length=2 from=0 to=1\nhi" + // socat adds no newline

		"> 2026/11/24 21:07:01.000797285  length=6 from=13 to=18\nagain\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	l = &SocatLog{W: &b, Hex: true, Now: func() time.Time { return at }}
	l.Data(chunk("C1", true, "hi\n"))
	if want := "> 2026/11/24 21:07:01.000797285  length=3 from=0 to=2\n 68 69 0a\n"; b.String() != want {
		t.Errorf("hex: got %q want %q", b.String(), want)
	}
	b.Reset()
	l = &SocatLog{W: &b, Hex: true, Text: true, Now: func() time.Time { return at }}
	l.Data(chunk("C1", true, "0123456789abcdefXY\n\tz\r\\"))
	want = "> 2026/11/24 21:07:01.000797285  length=23 from=0 to=22\n" +
		" 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66  0123456789abcdef\n" +
		" 58 59 0a                                         XY.\n" +
		" 09 7a 0d 5c                                      .z.\\\n--\n"
	if b.String() != want {
		t.Errorf("-v -x: got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	l = &SocatLog{W: &b, Text: true, Now: func() time.Time { return at }}
	l.Data(chunk("C1", true, "\a\b\t\v\f\r\\\x00\x7f\xff"))
	if want := "> 2026/11/24 21:07:01.000797285  length=10 from=0 to=9\n\\a\\b\t\\v\\f\\r\\\\..."; b.String() != want {
		t.Errorf("-v escapes: got %q want %q", b.String(), want)
	}
}

// A forked socat child counts its offsets from 0; so does each session
// under one SocatLog, and a closed session's are forgotten.
func TestSocatLogPerSession(t *testing.T) {
	var b strings.Builder
	l := &SocatLog{W: &b, Text: true, Now: func() time.Time { return time.Time{} }}
	l.Data(chunk("C1", true, "abc"))
	l.Data(chunk("C2", true, "de"))
	l.Data(chunk("C1", true, "f"))
	l.Observe(events.Event{Kind: events.Closed, UID: "C1"})
	l.Data(chunk("C2", true, "g"))
	var got []string
	for _, line := range strings.Split(b.String(), "\n") {
		if i := strings.Index(line, "from="); i >= 0 {
			got = append(got, line[i:])
		}
	}
	want := []string{"from=0 to=2", "from=0 to=1", "from=3 to=3", "from=2 to=2"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("offsets %q, want %q", got, want)
	}
	if len(l.off) != 1 {
		t.Errorf("%d sessions' offsets kept, want 1 (C2)", len(l.off))
	}
}

func TestRawKeepsOneDirection(t *testing.T) {
	var ab, ba strings.Builder
	taps := events.Fanout{&Raw{W: &ab, AToB: true}, &Raw{W: &ba}}
	for _, c := range []events.Chunk{chunk("C1", true, "he"), chunk("C1", false, "HI"), chunk("C1", true, "llo")} {
		taps.Data(c)
	}
	if ab.String() != "hello" || ba.String() != "HI" {
		t.Errorf("-r got %q, -R got %q", ab.String(), ba.String())
	}
}

func TestNetcatDumpSides(t *testing.T) {
	var b strings.Builder
	d := &NetcatDump{W: &b}
	d.Data(events.Chunk{ToNet: true, Data: []byte("hi")})
	d.Data(events.Chunk{Data: []byte("yo\n")})
	d.Data(events.Chunk{ToNet: true, Data: []byte("!")})
	want := "> 00000000 68 69                                           # hi\n" +
		"< 00000000 79 6f 0a                                        # yo.\n" +
		"> 00000002 21                                              # !\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
