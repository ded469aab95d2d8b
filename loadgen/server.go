package loadgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/stream"
)

// bufSize is the server's and the throughput client's read and write
// size, iperf3's default for TCP.
const bufSize = 128 << 10

// readSize is what a sink or a downloading client reads at once: more
// than a write, so that one read takes whatever the socket holds.
const readSize = 1 << 20

// datagramIdle ends a UDP flow whose client fell silent without its
// closing datagram.
const datagramIdle = 30 * time.Second

// Server answers bench clients on one listener: every connection (or
// datagram peer) on its own, as many at once as come. A stream that
// opens with an Ask gets what it asks; any other is echoed, so the
// server is also a plain echo server.
type Server struct {
	// Logger hears one debug line per test; nil is silent.
	Logger *slog.Logger
	// Datagram says the listener's conns are datagram flows (UDP-LISTEN,
	// UNIX-RECVFROM): each Read is one datagram, answered by one. Such a
	// listener serves one client unless its address has fork.
	Datagram bool
}

// Serve answers conns from ln until ctx ends or ln fails; it closes ln
// and every conn it holds before it returns.
func (s *Server) Serve(ctx context.Context, ln endpoint.Listener) error {
	log := s.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var (
		mu    sync.Mutex
		conns = map[stream.Conn]struct{}{}
		wg    sync.WaitGroup
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			ln.Close()
			return err
		}
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			c.Close()
			return nil
		}
		conns[c] = struct{}{}
		mu.Unlock()
		wg.Go(func() {
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			if s.Datagram {
				serveDatagrams(c)
				return
			}
			if err := serveStream(c, log); err != nil {
				log.Debug("bench stream", "peer", endpoint.Addr(c.RemoteAddr()), "err", err)
			}
		})
	}
}

// serveStream answers one stream connection.
func serveStream(c stream.Conn, log *slog.Logger) error {
	a, rest, err := readAsk(c)
	if errors.Is(err, errNoAsk) {
		if _, err := c.Write(rest); err != nil {
			return err
		}
		_, err := io.Copy(stream.WriterOf(c), stream.ReaderOf(c))
		return err
	}
	if err != nil {
		return err
	}
	log.Debug("bench test", "peer", endpoint.Addr(c.RemoteAddr()), "mode", a.Mode, "size", a.Size)
	switch a.Mode {
	case Sink:
		return sink(c, rest)
	case Source:
		return source(c, a)
	default:
		return echo(c, a, rest)
	}
}

// sink reads to EOF and answers with the count read.
func sink(c stream.Conn, rest []byte) error {
	n := int64(len(rest))
	buf := make([]byte, readSize)
	for {
		m, err := c.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	_, err := c.Write(b[:])
	return err
}

// source writes until the client goes away.
func source(c stream.Conn, a Ask) error {
	size := a.Size
	if size == 0 {
		size = bufSize
	}
	buf := make([]byte, size)
	for {
		if _, err := c.Write(buf); err != nil {
			return nil // the client closed: the test is over
		}
	}
}

// echo answers each Size-byte request with a reply.
func echo(c stream.Conn, a Ask, rest []byte) error {
	size := max(a.Size, 1)
	replies := newReplySizes(a)
	req := make([]byte, size)
	reply := make([]byte, replies.max())
	r := io.MultiReader(bytes.NewReader(rest), c)
	for n := 1; ; n++ {
		if _, err := io.ReadFull(r, req); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if a.Delay > 0 && (a.Every <= 1 || n%a.Every == 0) {
			time.Sleep(time.Duration(a.Delay))
		}
		if _, err := c.Write(reply[:replies.next()]); err != nil {
			return err
		}
	}
}

// replySizes is the sequence of echo reply sizes both ends compute.
type replySizes struct {
	lo, hi int
	rng    *rand.Rand
}

func newReplySizes(a Ask) *replySizes {
	lo := a.Reply
	if lo == 0 {
		lo = max(a.Size, 1)
	}
	r := &replySizes{lo: lo, hi: lo}
	if a.ReplyMax > lo {
		r.hi = a.ReplyMax
		r.rng = rand.New(rand.NewPCG(a.Seed, a.Seed^0x9e3779b97f4a7c15))
	}
	return r
}

func (r *replySizes) max() int { return r.hi }

func (r *replySizes) next() int {
	if r.rng == nil {
		return r.lo
	}
	return r.lo + r.rng.IntN(r.hi-r.lo+1)
}

// A datagram test's datagrams open with this header (big-endian): the
// magic, a kind, the drop rate the server is asked to apply in parts
// per million, the sequence number, the client's send time and, in the
// answer, the server's receive time (both Unix nanoseconds).
const (
	udpMagic   = "SKBU"
	udpHeader  = 40
	udpData    = 0
	udpFin     = 1
	offKind    = 4
	offDrop    = 8
	offSeq     = 16
	offSent    = 24
	offArrived = 32
)

// serveDatagrams answers one datagram flow: each test datagram comes
// back stamped with its arrival time, unless the drop rate it carries
// says to lose it; anything else comes back as it came.
func serveDatagrams(c stream.Conn) {
	buf := make([]byte, 64<<10)
	idle := time.AfterFunc(datagramIdle, func() { c.Close() })
	defer idle.Stop()
	var owed float64 // the drop rate's running debt: drops are spread evenly
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		idle.Reset(datagramIdle)
		d := buf[:n]
		if n >= udpHeader && string(d[:4]) == udpMagic {
			if d[offKind] == udpFin {
				c.Write(d) //nolint:errcheck // the client's goodbye is answered once, best effort
				return
			}
			binary.BigEndian.PutUint64(d[offArrived:], uint64(time.Now().UnixNano()))
			if ppm := binary.BigEndian.Uint32(d[offDrop:]); ppm > 0 {
				owed += float64(ppm) / 1e6
				if owed >= 1 {
					owed--
					continue
				}
			}
		}
		if _, err := c.Write(d); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
	}
}
