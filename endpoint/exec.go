package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// Command is a program to run per connection (ncat -e and -c).
type Command struct {
	// Argv is the program and its arguments; with Shell it is one
	// string handed to /bin/sh -c.
	Argv  []string
	Shell bool
	// Stderr receives the child's stderr; nil discards it.
	Stderr io.Writer
	// Proto names the transport in NCAT_PROTO ("TCP", "UDP"...).
	Proto string
	// Setsid runs the child in a session of its own (socat's setsid).
	Setsid bool
	// PTY runs the child on a pseudo-terminal (socat's pty option), with
	// the terminal options in Spec (raw, echo).
	PTY  bool
	Spec address.Spec

	err error // why an EXEC command line could not be split
}

// CommandFor returns the command an EXEC or SYSTEM address names.
func CommandFor(s address.Spec) Command {
	argv, err := address.SplitCommand(s.Arg(0))
	c := Command{Argv: argv, Setsid: on(s, "setsid"), PTY: on(s, "pty"), Spec: s, err: err}
	if s.Kind == address.System {
		c.Argv, c.Shell = []string{strings.Join(s.Args, ":")}, true
	}
	return c
}

// Open starts c with pipes for its stdin and stdout and returns them as a
// conn: CloseWrite closes the child's stdin, and Close closes both pipes
// and waits for the child (ctx ending kills it).
func (c Command) Open(ctx context.Context) (stream.Conn, error) {
	if c.err != nil {
		return nil, fmt.Errorf("exec %q: %w", c.Spec.Arg(0), c.err)
	}
	if len(c.Argv) == 0 {
		return nil, errors.New("exec: no command")
	}
	cmd := c.command(ctx, nil)
	if c.PTY {
		return openPTY(ctx, cmd, c.Spec)
	}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &childConn{Pair: stream.Pair{R: r, W: w}, cmd: cmd}, nil
}

// childConn is a child's stdin and stdout; Close also reaps the child.
type childConn struct {
	stream.Pair
	cmd  *exec.Cmd
	once sync.Once
}

func (c *childConn) Close() error {
	err := c.Pair.Close()
	c.once.Do(func() { c.cmd.Wait() }) //nolint:errcheck // the exit status is not the conn's error
	return err
}

// command builds the exec.Cmd for c serving peer (nil: no peer).
func (c Command) command(ctx context.Context, peer stream.Conn) *exec.Cmd {
	argv := c.Argv
	if c.Shell {
		argv = []string{"/bin/sh", "-c", strings.Join(c.Argv, " ")}
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	if peer != nil {
		cmd.Env = append(os.Environ(), ncatEnv(peer, c.Proto)...)
	}
	cmd.Stderr = c.Stderr
	if c.Setsid {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	return cmd
}

// ParseCommand splits a -e command line on blanks, as ncat does.
func ParseCommand(line string) []string { return strings.Fields(line) }

// Start runs c with peer as its stdin and stdout. When peer is a kernel
// stream socket the child gets the descriptor itself and the returned conn
// is nil: no byte passes through sockit. Otherwise the child talks through
// pipes (or its terminal, with PTY), and the caller joins the returned
// conn with peer. Either way the caller waits for the returned Cmd.
func (c Command) Start(ctx context.Context, peer stream.Conn) (*exec.Cmd, stream.Conn, error) {
	cmd := c.command(ctx, peer)
	if c.PTY {
		ptmx, err := startPTY(cmd, c.Spec)
		if err != nil {
			return nil, nil, err
		}
		return cmd, &ptyConn{f: ptmx}, nil // the caller waits for cmd
	}
	if f := socketFile(peer); f != nil {
		defer f.Close()
		cmd.Stdin, cmd.Stdout = f, f
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		return cmd, nil, nil
	}
	w, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, err
	}
	r, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return cmd, &stream.Pair{R: r, W: w}, nil
}

// socketFile returns a duplicate of peer's descriptor when peer is a
// stream socket, else nil.
func socketFile(peer stream.Conn) *os.File {
	var f *os.File
	var err error
	switch c := peer.(type) {
	case *net.TCPConn:
		f, err = c.File()
	case *net.UnixConn:
		f, err = c.File()
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	return f
}

// ncatEnv returns ncat's NCAT_* variables for a child serving peer.
func ncatEnv(peer stream.Conn, proto string) []string {
	var env []string
	add := func(prefix string, a net.Addr) {
		if a == nil {
			return
		}
		host, port, err := net.SplitHostPort(a.String())
		if err != nil {
			host, port = a.String(), ""
		}
		env = append(env, prefix+"_ADDR="+host)
		if _, err := strconv.Atoi(port); err == nil {
			env = append(env, prefix+"_PORT="+port)
		}
	}
	add("NCAT_REMOTE", peer.RemoteAddr())
	add("NCAT_LOCAL", peer.LocalAddr())
	if proto != "" {
		env = append(env, "NCAT_PROTO="+proto)
	}
	return env
}
