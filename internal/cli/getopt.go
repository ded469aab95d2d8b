package cli

import (
	"regexp"
	"strings"

	"github.com/sockit/sockit/address"
)

// getoptError is a flag the parser did not take, worded as getopt(3)
// words it ("invalid option -- 'Y'"), since the netcats print getopt's
// line and scripts and people know it.
type getoptError struct {
	msg     string
	unknown string // a long option that is none ("--lisen"), for a suggestion
}

func (e *getoptError) Error() string { return e.msg }

var (
	pflagUnknownShort = regexp.MustCompile(`^unknown shorthand flag: '(.)' in -`)
	pflagUnknownLong  = regexp.MustCompile(`^unknown flag: --(.*)$`)
	pflagNeedsShort   = regexp.MustCompile(`^flag needs an argument: '(.)' in -`)
	pflagNeedsLong    = regexp.MustCompile(`^flag needs an argument: --(.*)$`)
)

// getoptWords rewrites a pflag error into getopt's words; ok is false for
// errors getopt has no line for (a value a flag refused).
func getoptWords(err error) (*getoptError, bool) {
	s := err.Error()
	if m := pflagUnknownShort.FindStringSubmatch(s); m != nil {
		return &getoptError{msg: "invalid option -- '" + m[1] + "'"}, true
	}
	if m := pflagUnknownLong.FindStringSubmatch(s); m != nil {
		return &getoptError{msg: "unrecognized option '--" + m[1] + "'", unknown: "--" + m[1]}, true
	}
	if m := pflagNeedsShort.FindStringSubmatch(s); m != nil {
		return &getoptError{msg: "option requires an argument -- '" + m[1] + "'"}, true
	}
	if m := pflagNeedsLong.FindStringSubmatch(s); m != nil {
		return &getoptError{msg: "option '--" + m[1] + "' requires an argument"}, true
	}
	return nil, false
}

// opt is one option getopt returned: its letter and argument.
type opt struct {
	c   byte
	arg string
}

// getopt parses argv as glibc's getopt(3) does with optstring: options
// cluster (-lvnp 80), an option's argument is the rest of its word or
// the next word, and options may follow operands (GNU permutation) up
// to "--".
func getopt(argv []string, optstring string) (opts []opt, operands []string, err error) {
	for i := 0; i < len(argv); i++ {
		a := argv[i]
		if a == "--" {
			return opts, append(operands, argv[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			operands = append(operands, a)
			continue
		}
	word:
		for j := 1; j < len(a); j++ {
			c := a[j]
			k := strings.IndexByte(optstring, c)
			if k < 0 || c == ':' {
				return nil, nil, &getoptError{msg: "invalid option -- '" + string(c) + "'"}
			}
			if k+1 >= len(optstring) || optstring[k+1] != ':' {
				opts = append(opts, opt{c: c})
				continue
			}
			switch {
			case j+1 < len(a):
				opts = append(opts, opt{c, a[j+1:]})
			case i+1 < len(argv):
				i++
				opts = append(opts, opt{c, argv[i]})
			default:
				return nil, nil, &getoptError{msg: "option requires an argument -- '" + string(c) + "'"}
			}
			break word // the argument took the rest of the word
		}
	}
	return opts, operands, nil
}

// netcatFlag applies a letter that OpenBSD's nc and netcat 1.10 share, with
// the same meaning in both; shared is false for the others.
func netcatFlag(o *ncatOptions, op opt) (shared bool, err error) {
	switch op.c {
	case 'b':
		o.sockopts = append(o.sockopts, address.Option{Name: "so-broadcast", Value: "1"})
	case 'C':
		o.crlf = true
	case 'l':
		o.listen = true
	case 'n':
		o.noDNS = true
	case 'p':
		o.sourcePort = op.arg
	case 'r':
		// The ports of a scan are probed at once; their order is moot.
	case 's':
		o.source = op.arg
	case 'T':
		return true, openbsdKeyword(o, op.arg)
	case 'u':
		o.udp = true
	case 'v':
		o.verbose++
	case 'z':
		o.zero = true
	default:
		return false, nil
	}
	return true, nil
}
