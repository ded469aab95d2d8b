package endpoint

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
)

// eofPoll is how often an ignoreeof reader looks for more data, as socat
// polls a file that has reached its end.
const eofPoll = 200 * time.Millisecond

// openFile opens OPEN, CREATE, GOPEN and PIPE addresses.
func openFile(ctx context.Context, s address.Spec) (stream.Conn, error) {
	path := s.Arg(0)
	mode := fs.FileMode(0o666)
	if v, ok := s.Opt("mode"); ok {
		m, _ := strconv.ParseUint(v, 8, 32) // validated by address.Parse
		mode = fs.FileMode(m)
	}
	flags := 0
	for name, bit := range openFlags {
		if on(s, name) {
			flags |= bit
		}
	}
	if v, ok := s.Opt("umask"); ok {
		m, _ := strconv.ParseUint(v, 8, 32) // validated by address.Parse
		defer setUmask(setUmask(int(m)))
	}
	if on(s, "unlink-early") {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	// The access mode: o-rdonly, o-wronly or o-rdwr when given (a half of
	// a dual address, or -u, asks for one), else the kind's own.
	access, fallback := os.O_RDWR, true // fallback: read-only when writing is not allowed
	switch s.Kind {
	case address.Create:
		access, fallback = os.O_WRONLY, false
		flags |= os.O_CREATE | os.O_TRUNC
	case address.Gopen:
		if st, serr := os.Stat(path); serr == nil && st.Mode()&fs.ModeSocket != 0 {
			var d net.Dialer
			c, err := d.DialContext(ctx, "unix", path)
			if err != nil {
				return dialUnixgram(address.Spec{Kind: address.UnixSendto, Args: []string{path}})
			}
			return c.(*net.UnixConn), nil
		}
		flags |= os.O_CREATE | os.O_APPEND
	case address.Pipe:
		if path == "" && len(s.Options) == 0 {
			// An unnamed pipe: what is written to it is read back (socat's
			// echo). Without options that need a descriptor, it is held in
			// memory: no pipe to make, register and close per session.
			return stream.NewEcho(), nil
		}
		if path == "" {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			return &stream.Pair{R: r, W: w}, nil
		}
		if err := mkfifo(path, uint32(mode)); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, &os.PathError{Op: "mkfifo", Path: path, Err: err}
		}
		fallback = false // O_RDWR: opening does not wait for a peer, and reads see writes
	}
	for name, m := range map[string]int{"o-rdonly": os.O_RDONLY, "o-wronly": os.O_WRONLY, "o-rdwr": os.O_RDWR} {
		if on(s, name) {
			access, fallback = m, false
		}
	}
	f, err := os.OpenFile(path, access|flags, mode)
	if fallback && errors.Is(err, fs.ErrPermission) {
		access = os.O_RDONLY
		f, err = os.OpenFile(path, os.O_RDONLY, 0) // writes will fail, reads work
	}
	if err != nil {
		return nil, err
	}
	for _, step := range []func(*os.File, address.Spec) error{fileOwner, SetTermios, fileOptions} {
		if err := step(f, s); err != nil {
			f.Close()
			return nil, err
		}
	}
	if on(s, "unlink-late") {
		os.Remove(path)
	}
	c := &fileConn{f: f, writeOnly: access == os.O_WRONLY, closed: make(chan struct{}), ignoreEOF: on(s, "ignoreeof")}
	if on(s, "unlink-close") {
		c.onClose = func() { os.Remove(path) }
	}
	if access == os.O_RDONLY {
		return &stream.Pair{R: c, W: readOnly{}}, nil
	}
	return c, nil
}

// ForReading and ForWriting return s opened for one direction only, as
// socat opens the halves of a dual address and the two sides of -u: a
// file kind without an access option gets o-rdonly or o-wronly. Other
// kinds come back as they are.
func ForReading(s address.Spec) address.Spec { return withAccess(s, "o-rdonly") }

// ForWriting: see ForReading.
func ForWriting(s address.Spec) address.Spec { return withAccess(s, "o-wronly") }

func withAccess(s address.Spec, opt string) address.Spec {
	switch s.Kind {
	case address.File, address.Gopen:
	default:
		return s
	}
	for _, n := range []string{"o-rdonly", "o-wronly", "o-rdwr"} {
		if _, ok := s.Opt(n); ok {
			return s
		}
	}
	s.Options = append(append([]address.Option(nil), s.Options...), address.Option{Name: opt})
	return s
}

// openFlags are socat's o-* options that add an open(2) flag.
var openFlags = map[string]int{
	"append": os.O_APPEND, "trunc": os.O_TRUNC, "o-create": os.O_CREATE, "o-excl": os.O_EXCL,
}

// fileOwner applies user, group and their -late forms, and perm-late, to
// an open file.
func fileOwner(f *os.File, s address.Spec) error {
	uid, gid, err := owner(s)
	if err != nil {
		return err
	}
	if uid >= 0 || gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	// perm is the mode a file is created with (socat 1.7.4 leaves an
	// existing file's alone); perm-late sets it on the open descriptor.
	for _, name := range []string{"perm-late"} {
		if v, ok := s.Opt(name); ok {
			m, _ := strconv.ParseUint(v, 8, 32) // validated by address.Parse
			if err := f.Chmod(fs.FileMode(m)); err != nil {
				return err
			}
		}
	}
	return nil
}

// fileConn is a file or named pipe as a stream.Conn: one descriptor read
// and written. A file has no half-close, so CloseWrite does nothing.
type fileConn struct {
	f         *os.File
	writeOnly bool // CREATE: reads see end of file at once
	ignoreEOF bool // at end of file, wait for more (tail -f)
	onClose   func()
	closed    chan struct{}
	once      sync.Once
}

func (c *fileConn) Read(p []byte) (int, error) {
	if c.writeOnly {
		return 0, io.EOF
	}
	for {
		n, err := c.f.Read(p)
		if err != io.EOF || !c.ignoreEOF || n > 0 {
			return n, err
		}
		select {
		case <-c.closed:
			return 0, io.EOF
		case <-time.After(eofPoll):
		}
	}
}

func (c *fileConn) Write(p []byte) (int, error) { return c.f.Write(p) }
func (c *fileConn) CloseWrite() error           { return nil }
func (c *fileConn) LocalAddr() net.Addr         { return nil }
func (c *fileConn) RemoteAddr() net.Addr        { return nil }

func (c *fileConn) Close() error {
	c.once.Do(func() {
		close(c.closed)
		if c.onClose != nil {
			c.onClose()
		}
	})
	return c.f.Close()
}

// ReadHalf returns the file itself, so the relay can splice from it,
// unless reads need fileConn's own handling.
func (c *fileConn) ReadHalf() io.Reader {
	if c.writeOnly || c.ignoreEOF {
		return readerFunc(c.Read)
	}
	return c.f
}

// WriteHalf returns the file itself, so the relay can splice into it.
func (c *fileConn) WriteHalf() io.Writer { return c.f }

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
