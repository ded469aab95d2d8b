package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sockit/sockit/address"
)

// durationValue parses ncat's times: a number of seconds with an optional
// ms, s, m or h suffix ("500ms", "2s", "1.5").
type durationValue struct {
	d    *time.Duration
	flag string // the short flag, for messages
	what string // "timeout" or "delay"
	bad  *error // set to the message when a value is refused
}

func (v durationValue) String() string { return v.d.String() }
func (v durationValue) Type() string   { return "time" }

func (v durationValue) Set(s string) error {
	d, err := parseTime(s)
	if err != nil {
		// pflag wraps this in its own wording; bad keeps ncat's line.
		*v.bad = usagef("invalid -%s %s %q (must be greater than 0 and less than 2147483s)", v.flag, v.what, s)
		return *v.bad
	}
	*v.d = d
	return nil
}

func parseTime(s string) (time.Duration, error) {
	unit := time.Second
	num := s
	for _, u := range []struct {
		suf string
		d   time.Duration
	}{{"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}} {
		if strings.HasSuffix(s, u.suf) {
			num, unit = strings.TrimSuffix(s, u.suf), u.d
			break
		}
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || !(f > 0) || f*float64(unit) >= 2147483*float64(time.Second) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return time.Duration(f * float64(unit)), nil
}

// sizeValue parses a byte count with an optional k or m suffix ("64k").
type sizeValue struct{ n *int }

func (v sizeValue) String() string { return strconv.Itoa(*v.n) }
func (v sizeValue) Type() string   { return "size" }

func (v sizeValue) Set(s string) error {
	n, err := address.ParseSize(s)
	if err != nil || n <= 0 {
		return fmt.Errorf("bad size %q (a byte count, k or m suffix)", s)
	}
	*v.n = n
	return nil
}
