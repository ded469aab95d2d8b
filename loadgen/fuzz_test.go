package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzReadAsk: whatever a client opens with, the server's reader gives
// an Ask that validates, the bytes to echo, or an error; never a panic,
// and never an Ask past the limits.
func FuzzReadAsk(f *testing.F) {
	for _, s := range []string{
		Magic + `{"mode":"echo","size":64}` + "\n",
		Magic + `{"mode":"sink"}` + "\npayload",
		Magic + `{"mode":"echo","size":10,"reply":5,"reply_max":900,"seed":7,"delay":"50ms","every":100}` + "\n",
		Magic + `{"mode":"source","size":-1}` + "\n",
		Magic + `{"mode":"echo","delay":"-5s"}` + "\n",
		"GET / HTTP/1.0\r\n\r\n",
		"SOCKIT-BE",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		a, rest, err := readAsk(bytes.NewReader(in))
		switch {
		case errors.Is(err, errNoAsk):
			if !bytes.HasPrefix(in, rest) {
				t.Fatalf("echo bytes %q are not what came, %q", rest, in)
			}
		case err == nil:
			if verr := a.validate(); verr != nil {
				t.Fatalf("accepted an invalid ask %+v: %v", a, verr)
			}
			if !bytes.HasSuffix(in, rest) {
				t.Fatalf("payload %q is not the tail of %q", rest, in)
			}
		}
	})
}

// FuzzResult: any JSON a user hands `bench report`, `compare` or
// `merge` decodes, merges and summarises without a panic.
func FuzzResult(f *testing.F) {
	h := newHist()
	h.RecordValue(1000)
	good, _ := json.Marshal(Result{Start: Start{Test: Test{Mode: RR}}, Intervals: []Interval{{Totals: Totals{Seconds: 1, Ops: 1, Latency: Summarise(h)}}},
		End: End{Totals: Totals{Seconds: 1, Ops: 1, Latency: Summarise(h)}}})
	f.Add(good)
	f.Add([]byte(`{"start":{"test_start":{"mode":"rr"}},"end":{"latency":{"histogram":"HISTFAAAACh4nJNpmSzMwMDAxQABzFCaEUzOmNZg/wEi0NzIyNDAzMrCwsDQwA","count":1}}}`))
	f.Add([]byte(`{"start":{"test_start":{"mode":"udp"}},"intervals":[{"udp":{"sent":-1}}],"end":{}}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r Result
		if json.Unmarshal(in, &r) != nil {
			return
		}
		m, err := Merge(&r, &r)
		if err == nil && m.End.Ops != 2*r.End.Ops {
			t.Fatalf("merged ops %d from twice %d", m.End.Ops, r.End.Ops)
		}
	})
}
