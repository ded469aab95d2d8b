//go:build unix

package endpoint

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/sockit/sockit/address"
)

// DropPrivileges applies s's process options of the phase to sockit's
// own process: chroot (and chdir to the new root), then the group, then
// the user. EXEC and SYSTEM apply the plain options to their child
// instead (Command), and are left alone here.
func DropPrivileges(s address.Spec, phase string) error {
	if phase == PhaseOpened && (s.Kind == address.Exec || s.Kind == address.System) {
		return nil
	}
	names := processOptions[phase]
	if v, ok := s.Opt(names[0]); ok && names[0] != "" {
		if err := syscall.Chroot(v); err != nil {
			return fmt.Errorf("%s %s: %w", names[0], v, err)
		}
		if err := os.Chdir("/"); err != nil {
			return err
		}
	}
	cred, err := credential(s, names[1], names[2], names[3])
	if err != nil || cred == nil {
		return err
	}
	if cred.Groups != nil {
		groups := make([]int, len(cred.Groups))
		for i, g := range cred.Groups {
			groups[i] = int(g)
		}
		if err := syscall.Setgroups(groups); err != nil {
			return fmt.Errorf("setgroups: %w", err)
		}
	}
	if int(cred.Gid) != syscall.Getgid() {
		if err := syscall.Setgid(int(cred.Gid)); err != nil {
			return fmt.Errorf("setgid %d: %w", cred.Gid, err)
		}
	}
	if int(cred.Uid) != syscall.Getuid() {
		if err := syscall.Setuid(int(cred.Uid)); err != nil {
			return fmt.Errorf("setuid %d: %w", cred.Uid, err)
		}
	}
	return nil
}

// credential returns the user and groups that setgid, setuid and
// substuser (under the given option names) ask for, or nil for none.
// substuser takes the user's own group and supplementary groups.
func credential(s address.Spec, setgid, setuid, substuser string) (*syscall.Credential, error) {
	if !hasOpt(s, setgid) && !hasOpt(s, setuid) && !hasOpt(s, substuser) {
		return nil, nil // nothing asked: no getuid and getgid for every session
	}
	cred := &syscall.Credential{Uid: uint32(syscall.Getuid()), Gid: uint32(syscall.Getgid()), NoSetGroups: true}
	asked := false
	if v, ok := s.Opt(substuser); ok && substuser != "" {
		u, err := user.Lookup(v)
		if err != nil {
			if _, nerr := strconv.Atoi(v); nerr == nil {
				u, err = user.LookupId(v)
			}
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", substuser, v, err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred.Uid, cred.Gid, cred.NoSetGroups, asked = uint32(uid), uint32(gid), false, true
		ids, _ := u.GroupIds()
		for _, id := range ids {
			if g, err := strconv.Atoi(id); err == nil {
				cred.Groups = append(cred.Groups, uint32(g))
			}
		}
		if cred.Groups == nil {
			cred.Groups = []uint32{uint32(gid)}
		}
	}
	if v, ok := s.Opt(setgid); ok && setgid != "" {
		gid, err := lookupGID(v)
		if err != nil {
			return nil, err
		}
		cred.Gid, asked = uint32(gid), true
	}
	if v, ok := s.Opt(setuid); ok && setuid != "" {
		uid, err := lookupUID(v)
		if err != nil {
			return nil, err
		}
		cred.Uid, asked = uint32(uid), true
	}
	if !asked {
		return nil, nil
	}
	return cred, nil
}

// hasOpt reports whether s has the option name ("" is none).
func hasOpt(s address.Spec, name string) bool {
	_, ok := s.Opt(name)
	return ok && name != ""
}
