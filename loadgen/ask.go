package loadgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Magic opens every stream test: the client writes Magic, one line of
// JSON (an Ask) and "\n" before any payload. A client that opens with
// anything else is answered as a plain echo server answers, so the
// server doubles as one for nc, socat or a connect-rate loop.
const Magic = "SOCKIT-BENCH/1 "

// maxAsk bounds the JSON line; a longer one is refused.
const maxAsk = 4096

// What the server does with a stream, as an Ask names it.
const (
	Sink   = "sink"   // read until EOF, then write the count read (8 bytes, big-endian) and close
	Source = "source" // write Size-byte chunks until the client closes
	Echo   = "echo"   // read Size bytes, write a reply, again until EOF
)

// Ask is what a client asks of the server for one stream (or, in UDP,
// what each datagram's flags say). The zero value of every field but
// Mode is the plain choice.
type Ask struct {
	Mode string `json:"mode"`
	// Size is the request size for echo and the write size for source.
	Size int `json:"size,omitempty"`
	// Reply is echo's reply size (0: Size); with ReplyMax above it,
	// each reply is drawn from [Reply, ReplyMax] by a generator seeded
	// with Seed, which the client runs too, so no reply carries a length.
	Reply    int    `json:"reply,omitempty"`
	ReplyMax int    `json:"reply_max,omitempty"`
	Seed     uint64 `json:"seed,omitempty"`
	// Delay holds every Every-th reply (every reply when Every is 0 or 1)
	// for this long before it is written.
	Delay Duration `json:"delay,omitempty"`
	Every int      `json:"every,omitempty"`
}

// Duration is a time.Duration that reads and writes as "50ms" in JSON.
type Duration time.Duration

// MarshalJSON writes d as time.Duration's String.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a string such as "50ms".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// maxSize bounds every size an Ask may name, so a client cannot make the
// server allocate what it likes.
const maxSize = 16 << 20

// validate says what is wrong with a, if anything.
func (a Ask) validate() error {
	switch a.Mode {
	case Sink, Source, Echo:
	default:
		return fmt.Errorf("unknown mode %q", a.Mode)
	}
	for _, v := range []int{a.Size, a.Reply, a.ReplyMax, a.Every} {
		if v < 0 || v > maxSize {
			return fmt.Errorf("size %d out of range 0-%d", v, maxSize)
		}
	}
	if a.ReplyMax != 0 && a.ReplyMax < a.Reply {
		return fmt.Errorf("reply_max %d below reply %d", a.ReplyMax, a.Reply)
	}
	if a.Delay < 0 || time.Duration(a.Delay) > time.Minute {
		return fmt.Errorf("delay %v out of range 0-1m", time.Duration(a.Delay))
	}
	return nil
}

// Header is the bytes that open a stream asking for a.
func (a Ask) Header() []byte {
	b, _ := json.Marshal(a) // nothing in an Ask fails to marshal
	return append(append([]byte(Magic), b...), '\n')
}

// errNoAsk is readAsk's answer for a client that did not open with Magic.
var errNoAsk = errors.New("no ask")

// readAsk reads the header from r and returns the payload bytes read
// past it. Without Magic it returns errNoAsk and the bytes it read, which
// the caller echoes; a malformed header is an error of its own.
func readAsk(r io.Reader) (Ask, []byte, error) {
	buf := make([]byte, 0, 256)
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= maxAsk {
				return Ask{}, nil, fmt.Errorf("ask longer than %d bytes", maxAsk)
			}
			buf = append(buf, make([]byte, cap(buf))...)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		m := min(len(buf), len(Magic))
		if !bytes.Equal(buf[:m], []byte(Magic[:m])) {
			return Ask{}, buf, errNoAsk
		}
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			a, err := ParseAsk(buf[len(Magic):i])
			return a, buf[i+1:], err
		}
		if err != nil {
			if err == io.EOF && len(buf) < len(Magic) {
				return Ask{}, buf, errNoAsk
			}
			return Ask{}, nil, fmt.Errorf("read ask: %w", err)
		}
	}
}

// ParseAsk reads the JSON of one Ask and checks it.
func ParseAsk(b []byte) (Ask, error) {
	var a Ask
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&a); err != nil {
		return Ask{}, fmt.Errorf("bad ask: %w", err)
	}
	if d.More() {
		return Ask{}, errors.New("bad ask: trailing data")
	}
	if err := a.validate(); err != nil {
		return Ask{}, fmt.Errorf("bad ask: %w", err)
	}
	return a, nil
}
