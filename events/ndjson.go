package events

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Encoder writes events as NDJSON: one JSON object per line, fields in
// a fixed order, each line in a single write. It is an Observer, safe
// for use from many goroutines.
type Encoder struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error
}

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Observe writes e as one line. A write error is kept (see Err) and the
// events after it are dropped: a log that cannot be written never stops
// a session.
func (enc *Encoder) Observe(e Event) {
	line, err := Marshal(e)
	if err != nil {
		return // every field is a string or a number: not reached
	}
	enc.mu.Lock()
	defer enc.mu.Unlock()
	if enc.err != nil {
		return
	}
	enc.buf = append(append(enc.buf[:0], line...), '\n')
	_, enc.err = enc.w.Write(enc.buf)
}

// Err is the first write error, if any.
func (enc *Encoder) Err() error {
	enc.mu.Lock()
	defer enc.mu.Unlock()
	return enc.err
}

// wire is an Event as it is written: docs/events.md describes each field.
type wire struct {
	V           int      `json:"v"`
	TS          float64  `json:"ts"`
	Event       Kind     `json:"event"`
	UID         string   `json:"uid,omitempty"`
	Proto       string   `json:"proto,omitempty"`
	OrigH       string   `json:"id.orig_h,omitempty"`
	OrigP       uint16   `json:"id.orig_p,omitempty"`
	RespH       string   `json:"id.resp_h,omitempty"`
	RespP       uint16   `json:"id.resp_p,omitempty"`
	CommunityID string   `json:"community_id,omitempty"`
	Local       string   `json:"local,omitempty"`
	Remote      string   `json:"remote,omitempty"`
	Family      string   `json:"family,omitempty"`
	Tried       []string `json:"tried,omitempty"`
	Verdict     string   `json:"verdict,omitempty"`
	TLSVersion  string   `json:"tls_version,omitempty"`
	Cipher      string   `json:"cipher,omitempty"`
	ALPN        string   `json:"alpn,omitempty"`
	SNI         string   `json:"sni,omitempty"`
	PeerSHA256  string   `json:"peer_sha256,omitempty"`
	Resumed     *bool    `json:"resumed,omitempty"`
	Dir         Dir      `json:"dir,omitempty"`
	Bytes       *int64   `json:"bytes,omitempty"`
	Duration    *float64 `json:"duration,omitempty"`
	OrigBytes   *int64   `json:"orig_bytes,omitempty"`
	RespBytes   *int64   `json:"resp_bytes,omitempty"`
	ConnState   string   `json:"conn_state,omitempty"`
	PID         int      `json:"pid,omitempty"`
	Command     string   `json:"command,omitempty"`
	Status      *int     `json:"status,omitempty"`
	Attempt     int      `json:"attempt,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Op          string   `json:"op,omitempty"`
	Port        int      `json:"port,omitempty"`
	State       string   `json:"state,omitempty"`
}

// Marshal is the JSON object of one event, without the newline.
func Marshal(e Event) ([]byte, error) {
	w := wire{
		V: Version, TS: seconds(e.Time), Event: e.Kind, UID: e.UID, Proto: e.Proto,
		CommunityID: e.CommunityID, Local: e.Local, Remote: e.Remote, Family: e.Family,
		Tried: e.Tried, Verdict: e.Verdict, TLSVersion: e.TLSVersion, Cipher: e.Cipher,
		ALPN: e.ALPN, SNI: e.SNI, PeerSHA256: e.PeerSHA256, Dir: e.Dir, ConnState: e.ConnState,
		PID: e.PID, Command: e.Command, Attempt: e.Attempt, Reason: e.Reason, Op: e.Op,
		Port: e.PortNumber, State: e.State,
	}
	if e.Orig.IsValid() {
		w.OrigH, w.OrigP = e.Orig.Addr().Unmap().String(), e.Orig.Port()
	}
	if e.Resp.IsValid() {
		w.RespH, w.RespP = e.Resp.Addr().Unmap().String(), e.Resp.Port()
	}
	switch e.Kind {
	case TLS:
		w.Resumed = &e.Resumed
	case HalfClose:
		w.Bytes = &e.Bytes
	case Closed:
		d := e.Duration.Seconds()
		w.Duration, w.OrigBytes, w.RespBytes = &d, &e.OrigBytes, &e.RespBytes
	case ChildExited:
		w.Status = &e.Status
	}
	return json.Marshal(w)
}

// seconds is t as Zeek writes it: seconds since the epoch, to the
// microsecond.
func seconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixMicro()) / 1e6
}
