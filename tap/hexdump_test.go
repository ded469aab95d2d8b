package tap

import (
	"strings"
	"testing"
	"time"
)

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
	at := time.Date(2026, 11, 24, 21, 7, 1, 797285, time.UTC)
	var b strings.Builder
	l := &SocatLog{W: &b, Text: true, Now: func() time.Time { return at }}
	l.Chunk(true, []byte("hello\nworld\x01\n"))
	l.Chunk(false, []byte("hi"))
	l.Chunk(true, []byte("again\n"))
	want := "> 2026/11/24 21:07:01.000797285  length=13 from=0 to=12\nhello\nworld.\n" +
		"< 2026/11/24 21:07:01.000797285  length=2 from=0 to=1\nhi\n" +
		"> 2026/11/24 21:07:01.000797285  length=6 from=13 to=18\nagain\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	l = &SocatLog{W: &b, Hex: true, Now: func() time.Time { return at }}
	l.Chunk(true, []byte("hi\n"))
	if want := "> 2026/11/24 21:07:01.000797285  length=3 from=0 to=2\n 68 69 0a\n"; b.String() != want {
		t.Errorf("hex: got %q want %q", b.String(), want)
	}
}
