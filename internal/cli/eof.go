package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/sockit/sockit/relay"
)

// eofPolicy is when a session between stdio and a socket ends, once one
// side's stream is done. The netcats each hard-wire their own rule (ncat's
// listener quits at its client's EOF, nc -q 0 at stdin's); --eof names it.
type eofPolicy struct {
	terms []string // as given, for -v: "wait", "remote", "stdin", "drain:2s"
	rules []relay.EOFRule
}

// parseEOF reads --eof: wait, remote, stdin or drain:DURATION, or a
// comma-separated list of remote and stdin/drain (the first to happen
// ends the session: nc.traditional's -q is remote,drain:N).
func parseEOF(s string) (eofPolicy, error) {
	var p eofPolicy
	bad := func(why string) (eofPolicy, error) {
		return eofPolicy{}, usagef("invalid --eof %q: %s; want wait, remote, stdin or drain:DURATION", s, why)
	}
	seen := map[string]bool{}
	for _, t := range strings.Split(s, ",") {
		kind, arg, hasArg := strings.Cut(strings.TrimSpace(t), ":")
		kind = strings.ToLower(kind)
		if hasArg != (kind == "drain") {
			return bad(fmt.Sprintf("%q takes no value", kind))
		}
		key := kind
		if kind == "drain" {
			key = "stdin" // drain and stdin are both "after stdin's EOF"
		}
		if seen[key] {
			return bad("repeated " + key)
		}
		seen[key] = true
		switch kind {
		case "wait":
		case "remote":
			p.rules = append(p.rules, relay.EOFRule{After: relay.BToA})
		case "stdin":
			p.rules = append(p.rules, relay.EOFRule{After: relay.AToB})
		case "drain":
			d, err := time.ParseDuration(arg)
			if err != nil {
				secs, serr := parseTime(arg)
				if serr != nil {
					return bad("bad duration " + arg)
				}
				d = secs
			}
			if d < 0 {
				return bad("negative duration")
			}
			p.rules = append(p.rules, relay.EOFRule{After: relay.AToB, Grace: d})
		default:
			return bad(fmt.Sprintf("unknown %q", kind))
		}
		p.terms = append(p.terms, strings.ToLower(strings.TrimSpace(t)))
	}
	if seen["wait"] && len(p.terms) > 1 {
		return bad("wait cannot be combined")
	}
	return p, nil
}

// eofWait is sockit's own default: both directions are done.
var eofWait = eofPolicy{terms: []string{"wait"}}

// describe says what the policy does, for -v.
func (p eofPolicy) describe() string {
	var parts []string
	for _, t := range p.terms {
		switch {
		case t == "wait":
			parts = append(parts, "the session ends when both directions are done")
		case t == "remote":
			parts = append(parts, "the session ends when the peer's stream ends")
		case t == "stdin":
			parts = append(parts, "the session ends when stdin's stream ends")
		default:
			parts = append(parts, "the session ends "+strings.TrimPrefix(t, "drain:")+" after stdin's stream ends")
		}
	}
	return strings.Join(p.terms, ",") + " (" + strings.Join(parts, ", or ") + ")"
}
