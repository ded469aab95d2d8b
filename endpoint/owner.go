package endpoint

import (
	"fmt"
	"os/user"
	"strconv"

	"github.com/sockit/sockit/address"
)

// owner returns the uid and gid the user and group options (and their
// -late and -early forms) ask for, -1 for each not asked for. Names are
// looked up; numbers are taken as they are.
func owner(s address.Spec) (uid, gid int, err error) {
	uid, gid = -1, -1
	for _, name := range []string{"user", "user-late", "user-early"} {
		if v, ok := s.Opt(name); ok {
			if uid, err = lookupUID(v); err != nil {
				return -1, -1, err
			}
		}
	}
	for _, name := range []string{"group", "group-late", "group-early"} {
		if v, ok := s.Opt(name); ok {
			if gid, err = lookupGID(v); err != nil {
				return -1, -1, err
			}
		}
	}
	return uid, gid, nil
}

func lookupUID(v string) (int, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return n, nil
	}
	u, err := user.Lookup(v)
	if err != nil {
		return -1, fmt.Errorf("user %q: %w", v, err)
	}
	return strconv.Atoi(u.Uid)
}

func lookupGID(v string) (int, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return n, nil
	}
	g, err := user.LookupGroup(v)
	if err != nil {
		return -1, fmt.Errorf("group %q: %w", v, err)
	}
	return strconv.Atoi(g.Gid)
}
