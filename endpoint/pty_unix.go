//go:build unix

package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// veof is the terminal's end-of-file character (^D): a pty has no
// half-close, so CloseWrite types it, as a user at the terminal would.
const veof = 0x04

// openPTY runs cmd on a new pseudo-terminal (EXEC/SYSTEM with the pty
// option): the child gets the terminal as stdin, stdout and stderr, in a
// session of its own with the terminal as its controlling tty.
func openPTY(ctx context.Context, cmd *exec.Cmd, s address.Spec) (stream.Conn, error) {
	ptmx, err := startPTY(cmd, s)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	return &ptyConn{f: ptmx, cmd: cmd, stop: stop}, nil
}

// startPTY starts cmd on a new terminal with s's termios options, set
// before the child runs (as socat does), and returns the terminal's
// master side. The child gets the terminal as stdin, stdout and stderr,
// in a session of its own with the terminal as its controlling tty.
func startPTY(cmd *exec.Cmd, s address.Spec) (*os.File, error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer tty.Close()
	if err := SetTermios(tty, s); err != nil {
		ptmx.Close()
		return nil, err
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	// A session of its own (which leads its process group too: setpgid
	// after setsid would fail).
	cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, true, 0
	cmd.SysProcAttr.Setpgid = false
	if err := cmd.Start(); err != nil {
		ptmx.Close()
		return nil, err
	}
	return ptmx, nil
}

// openPTYAddress opens a PTY address: a new terminal whose other side
// (the slave) is for some other program; link names a symlink to it.
// With pty-wait-slave it returns once a program has opened the slave,
// and holds no copy of it, so that program's last close ends the stream.
func openPTYAddress(ctx context.Context, s address.Spec) (stream.Conn, error) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	if err := SetTermios(ptmx, s); err != nil {
		ptmx.Close()
		tty.Close()
		return nil, err
	}
	c := &ptyConn{f: ptmx, tty: tty}
	if link, ok := s.Opt("link"); ok {
		os.Remove(link)
		if err := os.Symlink(tty.Name(), link); err != nil {
			c.Close()
			return nil, err
		}
		c.link = link
	}
	if on(s, "pty-wait-slave") {
		c.tty = nil
		tty.Close()
		if err := waitSlave(ctx, ptmx, s); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// waitSlave waits until some process opens the terminal whose master is
// ptmx: until then, with no slave open, the master polls as hung up. It
// looks every pty-interval (socat's default: a second).
func waitSlave(ctx context.Context, ptmx *os.File, s address.Spec) error {
	every := time.Second
	if v, ok := s.Opt("pty-interval"); ok {
		d, err := address.ParseSeconds(v)
		if err != nil {
			return fmt.Errorf("pty-interval %q: %w", v, err)
		}
		every = d
	}
	t := time.NewTicker(max(every, time.Millisecond))
	defer t.Stop()
	for {
		var hup bool
		err := control(ptmx, func(fd int) error {
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			_, err := unix.Poll(fds, 0)
			hup = fds[0].Revents&unix.POLLHUP != 0
			return err
		})
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("pty-wait-slave: poll: %w", err)
		}
		if err == nil && !hup {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ptyConn is the master side of a pseudo-terminal.
type ptyConn struct {
	f    *os.File
	tty  *os.File  // the slave, held open for a PTY address
	cmd  *exec.Cmd // reaped by Close, when the conn owns the child
	stop func() bool
	link string
	once sync.Once
}

// Read reads the terminal's output; the child closing its side (EIO on
// Linux) is end of stream.
func (c *ptyConn) Read(p []byte) (int, error) {
	n, err := c.f.Read(p)
	if errors.Is(err, syscall.EIO) {
		return n, io.EOF
	}
	return n, err
}

func (c *ptyConn) Write(p []byte) (int, error) { return c.f.Write(p) }

// CloseWrite types the end-of-file character. A terminal in raw mode
// passes it on as data, so there the session ends when the child exits
// (or at -t or -T).
func (c *ptyConn) CloseWrite() error {
	_, err := c.f.Write([]byte{veof})
	return err
}

// Close closes the terminal and reaps the child.
func (c *ptyConn) Close() error {
	err := c.f.Close()
	c.once.Do(func() {
		if c.tty != nil {
			c.tty.Close()
		}
		if c.link != "" {
			os.Remove(c.link)
		}
		if c.cmd != nil {
			c.stop()
			// Closing the terminal hangs the child up, as the kernel would
			// once no read holds the descriptor open.
			c.cmd.Process.Signal(syscall.SIGHUP) //nolint:errcheck // it may have exited
			c.cmd.Wait()                         //nolint:errcheck // the child's status is not the conn's error
		}
	})
	return err
}

func (c *ptyConn) LocalAddr() net.Addr  { return nil }
func (c *ptyConn) RemoteAddr() net.Addr { return nil }
