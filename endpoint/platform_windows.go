package endpoint

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// What Windows has not: inherited descriptors by number, terminals,
// socket pairs for a child, process groups, credentials, named pipes in
// the file system. sockit refuses them by name there.

var errNotWindows = errors.New("not on Windows")

func openFD(s address.Spec) (stream.Conn, error) {
	return nil, fmt.Errorf("FD:%s: %w", s.Arg(0), errNotWindows)
}

// Dup returns v as it is: a session's stdio is not shared here.
func Dup[T any](v T) T { return v }

func openPTY(context.Context, *exec.Cmd, address.Spec) (stream.Conn, error) {
	return nil, fmt.Errorf("pty: %w", errNotWindows)
}

func startPTY(*exec.Cmd, address.Spec) (*os.File, error) {
	return nil, fmt.Errorf("pty: %w", errNotWindows)
}

func openPTYAddress(context.Context, address.Spec) (stream.Conn, error) {
	return nil, fmt.Errorf("PTY: %w", errNotWindows)
}

// ptyConn never exists here; startPTY fails first.
type ptyConn struct {
	stream.Conn
	f *os.File
}

// DropPrivileges refuses the process options (chroot, setuid, ...).
func DropPrivileges(s address.Spec, phase string) error {
	for _, name := range processOptions[phase] {
		if _, ok := s.Opt(name); ok && name != "" {
			return fmt.Errorf("%s: %w", name, errNotWindows)
		}
	}
	return nil
}

func socketpair() ([2]int, error) { return [2]int{}, fmt.Errorf("socketpair: %w", errNotWindows) }

// processAttr refuses what a child cannot have here: its own session or
// process group, chroot, other credentials.
func (c Command) processAttr(*exec.Cmd) error {
	if c.Setsid {
		return fmt.Errorf("setsid: %w", errNotWindows)
	}
	for _, name := range []string{"setpgid", "chroot", "setgid", "setuid", "substuser"} {
		if _, ok := c.Spec.Opt(name); ok {
			return fmt.Errorf("%s: %w", name, errNotWindows)
		}
	}
	return nil
}

func setBlocking(int) error { return nil }

func setUmask(int) int { return 0 }

func mkfifo(path string, _ uint32) error {
	return &os.PathError{Op: "mkfifo", Path: path, Err: errNotWindows}
}

func relisten(fd uintptr, backlog int) error { return syscall.Listen(syscall.Handle(fd), backlog) }

// connectTo connects a bound UDP socket to peer.
func connectTo(s syscall.Conn, peer net.Addr) error {
	a, ok := peer.(*net.UDPAddr)
	if !ok {
		return fmt.Errorf("cannot connect to %v", peer)
	}
	var sa syscall.Sockaddr
	if ip4 := a.IP.To4(); ip4 != nil {
		sa4 := &syscall.SockaddrInet4{Port: a.Port}
		copy(sa4.Addr[:], ip4)
		sa = sa4
	} else {
		sa6 := &syscall.SockaddrInet6{Port: a.Port}
		copy(sa6.Addr[:], a.IP.To16())
		sa = sa6
	}
	rc, err := s.SyscallConn()
	if err != nil {
		return err
	}
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = syscall.Connect(syscall.Handle(fd), sa) }); err != nil {
		return err
	}
	return cerr
}
