package tap

import "testing"

// The expected text was written by ncat 7.93 -x for the same bytes.
func TestHexDumpMatchesNcat(t *testing.T) {
	got := HexDump([]byte("hello from server\n"))
	want := "0000   68 65 6c 6c 6f 20 66 72  6f 6d 20 73 65 72 76 65  hello.from.serve\n" +
		"0010   72 0a                                             r.              \n"
	if got != want {
		t.Errorf("HexDump =\n%q\nwant\n%q", got, want)
	}
}
