package endpoint

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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
	// Name, when set, is the argv[0] the child sees in place of Argv[0]
	// (sockit starts itself under a name that picks a helper).
	Name string
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
	// SocketPair gives the child one end of a Unix socket pair as stdin
	// and stdout, as socat does unless told pipes; the default is two
	// pipes.
	SocketPair bool
	// NoHandoff joins the child through pipes (or its socket pair) even
	// when it could take the peer's socket as its stdin and stdout:
	// something (a tap) must see the bytes.
	NoHandoff bool

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
	cmd, err := c.command(ctx, nil)
	if err != nil {
		return nil, err
	}
	if c.PTY {
		return openPTY(ctx, cmd, c.Spec)
	}
	if asksTermios(c.Spec) {
		return nil, errors.New("terminal options need a terminal: add pty")
	}
	if on(c.Spec, "nofork") {
		return nil, errNoFork
	}
	if c.SocketPair {
		sc, err := c.socketPair(cmd)
		if err != nil {
			return nil, err
		}
		return &childSocket{UnixConn: sc, cmd: cmd}, nil
	}
	r, w, err := c.pipes(cmd)
	if err != nil {
		return nil, err
	}
	return &childConn{Pair: stream.Pair{R: r, W: w}, cmd: cmd}, nil
}

// socketPair starts cmd with one end of a Unix stream socket pair on the
// descriptors fdin and fdout name (and stderr with the stderr option),
// and returns the other end.
func (c Command) socketPair(cmd *exec.Cmd) (*net.UnixConn, error) {
	fds, err := socketpair()
	if err != nil {
		return nil, os.NewSyscallError("socketpair", err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "socketpair"), os.NewFile(uintptr(fds[1]), "socketpair")
	defer theirs.Close()
	fc, err := net.FileConn(mine)
	mine.Close()
	if err != nil {
		return nil, err
	}
	c.placeChannel(cmd, theirs, theirs)
	if err := cmd.Start(); err != nil {
		fc.Close()
		return nil, err
	}
	return fc.(*net.UnixConn), nil
}

// childSocket is a child's end of a socket pair; Close also reaps it.
type childSocket struct {
	*net.UnixConn
	cmd  *exec.Cmd
	once sync.Once
}

func (c *childSocket) Close() error {
	err := c.UnixConn.Close()
	c.once.Do(func() { c.cmd.Wait() }) //nolint:errcheck // the exit status is not the conn's error
	return err
}

// placeChannel gives the child in and out on the descriptors fdin and
// fdout name (default 0 and 1), and out as its stderr too with the
// stderr option.
func (c Command) placeChannel(cmd *exec.Cmd, in, out *os.File) {
	fdin, fdout := 0, 1
	if v, ok := c.Spec.Opt("fdin"); ok {
		fdin, _ = strconv.Atoi(v) // validated by address.Parse
	}
	if v, ok := c.Spec.Opt("fdout"); ok {
		fdout, _ = strconv.Atoi(v)
	}
	place(cmd, fdin, in)
	place(cmd, fdout, out)
	if on(c.Spec, "stderr") {
		place(cmd, 2, out)
	}
}

// place makes f the child's descriptor n.
func place(cmd *exec.Cmd, n int, f *os.File) {
	switch n {
	case 0:
		cmd.Stdin = f
	case 1:
		cmd.Stdout = f
	case 2:
		cmd.Stderr = f
	default:
		for len(cmd.ExtraFiles) < n-2 {
			cmd.ExtraFiles = append(cmd.ExtraFiles, nil)
		}
		cmd.ExtraFiles[n-3] = f
	}
}

// pipes starts cmd talking through two pipes, on the descriptors fdin
// and fdout name (default 0 and 1), its stderr with its output when the
// stderr option asks, and returns sockit's ends.
func (c Command) pipes(cmd *exec.Cmd) (r, w *os.File, err error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, nil, err
	}
	c.placeChannel(cmd, inR, outW)
	err = cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, nil, err
	}
	return outR, inW, nil
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

// command builds the exec.Cmd for c serving peer (nil: no peer), with
// the process options of its spec: setsid, setpgid, chroot, setuid,
// setgid, substuser (the child's), path (where the program is looked up)
// and dash (a login shell's argv[0]).
func (c Command) command(ctx context.Context, peer stream.Conn) (*exec.Cmd, error) {
	if len(c.Argv) == 0 {
		return nil, errors.New("exec: no command")
	}
	argv := c.Argv
	if c.Shell {
		argv = []string{"/bin/sh", "-c", strings.Join(c.Argv, " ")}
	}
	env := os.Environ()
	prog := argv[0]
	if p, ok := c.Spec.Opt("path"); ok {
		env = append(env, "PATH="+p)
		if !strings.Contains(prog, "/") {
			found := ""
			for _, dir := range filepath.SplitList(p) {
				if st, err := os.Stat(filepath.Join(dir, prog)); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
					found = filepath.Join(dir, prog)
					break
				}
			}
			if found == "" {
				return nil, fmt.Errorf("exec %s: not found in path %s", prog, p)
			}
			prog = found
		}
	}
	cmd := exec.CommandContext(ctx, prog, argv[1:]...)
	if on(c.Spec, "dash") {
		cmd.Args[0] = "-" + filepath.Base(argv[0])
	}
	if c.Name != "" {
		cmd.Args[0] = c.Name
	}
	if peer != nil {
		env = append(env, ncatEnv(peer, c.Proto)...)
	}
	cmd.Env = env
	cmd.Stderr = c.Stderr
	if err := c.processAttr(cmd); err != nil {
		return nil, err
	}
	return cmd, nil
}

// passedSignal is the signal the sighup, sigint or sigquit option asks
// to pass on to the child when sockit is told to end, or 0.
func passedSignal(s address.Spec) syscall.Signal {
	for _, o := range []struct {
		name string
		sig  syscall.Signal
	}{{"sigint", syscall.SIGINT}, {"sigquit", syscall.SIGQUIT}, {"sighup", syscall.SIGHUP}} {
		if on(s, o.name) {
			return o.sig
		}
	}
	return 0
}

// ParseCommand splits a -e command line on blanks, as ncat does.
func ParseCommand(line string) []string { return strings.Fields(line) }

// Start runs c with peer as its stdin and stdout. When peer is a kernel
// stream socket the child gets the descriptor itself and the returned conn
// is nil: no byte passes through sockit. Otherwise the child talks through
// pipes (or its terminal, with PTY), and the caller joins the returned
// conn with peer. Either way the caller waits for the returned Cmd.
func (c Command) Start(ctx context.Context, peer stream.Conn) (*exec.Cmd, stream.Conn, error) {
	if c.err != nil {
		return nil, nil, fmt.Errorf("exec %q: %w", c.Spec.Arg(0), c.err)
	}
	cmd, err := c.command(ctx, peer)
	if err != nil {
		return nil, nil, err
	}
	if c.PTY {
		ptmx, err := startPTY(cmd, c.Spec)
		if err != nil {
			return nil, nil, err
		}
		return cmd, &ptyConn{f: ptmx}, nil // the caller waits for cmd
	}
	if f := socketFile(peer); f != nil && !c.NoHandoff {
		defer f.Close()
		cmd.Stdin, cmd.Stdout = f, f
		if on(c.Spec, "stderr") {
			cmd.Stderr = f
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		return cmd, nil, nil
	}
	if on(c.Spec, "nofork") {
		in, out, ok := fileEnds(peer)
		if !ok {
			return nil, nil, errNoFork
		}
		cmd.Stdin, cmd.Stdout = in, out
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		return cmd, nil, nil
	}
	r, w, err := c.pipes(cmd)
	if err != nil {
		return nil, nil, err
	}
	return cmd, &stream.Pair{R: r, W: w}, nil
}

// fileEnds returns the files under a stdio conn (socat's STDIO with
// nofork: the child reads and writes sockit's own stdin and stdout), set
// back to blocking, as a program expects its standard descriptors.
func fileEnds(peer stream.Conn) (in, out *os.File, ok bool) {
	p, isPair := peer.(*stream.Pair)
	if !isPair {
		return nil, nil, false
	}
	in, okIn := p.R.(*os.File)
	out, okOut := p.W.(*os.File)
	if !okIn || !okOut {
		return nil, nil, false
	}
	for _, f := range []*os.File{in, out} {
		if err := control(f, setBlocking); err != nil {
			return nil, nil, false
		}
	}
	return in, out, true
}

// errNoFork is why nofork cannot be honoured: sockit hands a child the
// other address only when that is a plain socket nothing watches.
var errNoFork = errors.New("nofork: the child can be handed only a socket or sockit's stdio itself, with no -v, -x, -r, -R or -T watching")

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
