//go:build !linux

package endpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// The address types and options below are Linux's (packet sockets, TUN,
// raw socket addresses, VSOCK, setsockopt by number, chattr and ioctls,
// termios by Linux's bits). Elsewhere sockit refuses them by name.

var errLinuxOnly = errors.New("only on Linux, not on " + runtime.GOOS)

func openInterface(address.Spec) (stream.Conn, error) {
	return nil, fmt.Errorf("INTERFACE: %w", errLinuxOnly)
}
func openTUN(address.Spec) (stream.Conn, error) { return nil, fmt.Errorf("TUN: %w", errLinuxOnly) }
func dialGeneric(context.Context, address.Spec) (stream.Conn, error) {
	return nil, fmt.Errorf("SOCKET-*: %w", errLinuxOnly)
}
func listenGeneric(address.Spec) (Listener, error) {
	return nil, fmt.Errorf("SOCKET-LISTEN: %w", errLinuxOnly)
}
func openGenericPacket(address.Spec) (stream.Conn, error) {
	return nil, fmt.Errorf("SOCKET-*: %w", errLinuxOnly)
}
func vsockSpec(address.Spec) (address.Spec, error) {
	return address.Spec{}, fmt.Errorf("VSOCK: %w", errLinuxOnly)
}

// sockopts refuses the socket options sockit sets by number on Linux
// (reuseaddr, keepalive and nodelay need none here: Go's listeners set
// SO_REUSEADDR, and its dials and accepts turn on TCP keep-alive and
// TCP_NODELAY).
func sockopts(s address.Spec) func(network, address string, rc syscall.RawConn) error {
	for _, o := range s.Options {
		if numberedSockopts[o.Name] {
			name := o.Name
			return func(string, string, syscall.RawConn) error {
				return fmt.Errorf("socket option %s: %w", name, errLinuxOnly)
			}
		}
	}
	return nil
}

// seeks) that sockit applies on Linux.
func fileOptions(_ *os.File, s address.Spec) error {
	for _, o := range s.Options {
		if isFileOption(o.Name) {
			return fmt.Errorf("%s: %w", o.Name, errLinuxOnly)
		}
	}
	return nil
}

// SetTermios refuses terminal options (their bits are Linux's).
func SetTermios(_ *os.File, s address.Spec) error {
	if asksTermios(s) {
		return fmt.Errorf("terminal options: %w", errLinuxOnly)
	}
	return nil
}

func asksTermios(s address.Spec) bool {
	for _, o := range s.Options {
		if _, ok := address.TermiosFor(o.Name); ok {
			return true
		}
	}
	return false
}
