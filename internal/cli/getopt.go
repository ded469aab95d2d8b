package cli

import (
	"regexp"
)

// getoptError is a flag the parser did not take, worded as getopt(3)
// words it ("invalid option -- 'Y'"), since the netcats print getopt's
// line and scripts and people know it.
type getoptError struct{ msg string }

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
		return &getoptError{"invalid option -- '" + m[1] + "'"}, true
	}
	if m := pflagUnknownLong.FindStringSubmatch(s); m != nil {
		return &getoptError{"unrecognized option '--" + m[1] + "'"}, true
	}
	if m := pflagNeedsShort.FindStringSubmatch(s); m != nil {
		return &getoptError{"option requires an argument -- '" + m[1] + "'"}, true
	}
	if m := pflagNeedsLong.FindStringSubmatch(s); m != nil {
		return &getoptError{"option '--" + m[1] + "' requires an argument"}, true
	}
	return nil, false
}
