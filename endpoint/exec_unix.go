//go:build unix

package endpoint

import (
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// processAttr sets up how the child starts: its session or process group
// (a group of its own unless asked otherwise, so that ending the session
// ends what it started too, sh -c's children), chroot and credentials,
// and how it is ended.
func (c Command) processAttr(cmd *exec.Cmd) error {
	attr := &syscall.SysProcAttr{Setsid: c.Setsid}
	if v, ok := c.Spec.Opt("setpgid"); ok {
		attr.Setpgid = true
		attr.Pgid, _ = strconv.Atoi(v) // validated by address.Parse
	}
	if v, ok := c.Spec.Opt("chroot"); ok {
		attr.Chroot = v
	}
	cred, err := credential(c.Spec, "setgid", "setuid", "substuser")
	if err != nil {
		return err
	}
	attr.Credential = cred
	group := !attr.Setsid && !attr.Setpgid
	attr.Setpgid = attr.Setpgid || group
	cmd.SysProcAttr = attr
	sig := syscall.SIGKILL
	if passed := passedSignal(c.Spec); passed != 0 {
		// socat passes these signals on to its child instead of killing it.
		sig = passed
		cmd.WaitDelay = time.Second
	}
	cmd.Cancel = func() error {
		if group {
			syscall.Kill(-cmd.Process.Pid, sig) //nolint:errcheck // the group may be gone
		}
		return cmd.Process.Signal(sig)
	}
	return nil
}

// setBlocking clears O_NONBLOCK, for a descriptor a child inherits.
func setBlocking(fd int) error { return unix.SetNonblock(fd, false) }
