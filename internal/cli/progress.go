package cli

import (
	"crypto/tls"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// progressEvery is how often --progress reads the counts and redraws.
const progressEvery = 200 * time.Millisecond

// progress is --progress: two lines on stderr, the bytes sent (with a
// bar and an ETA when stdin is a file of known size) and received, each
// with its rate. TCP's counts come from the kernel (TCP_INFO), so the
// session keeps its splice path; other sockets are counted at stdio.
type progress struct {
	r          *runner
	p          *mpb.Progress
	sent, recv *mpb.Bar
	count      func() (sent, recv int64) // the counts now
	done       chan struct{}
	finished   chan struct{}
	stderr     io.Writer // the runner's, while the bars hold the terminal
}

// startProgress starts --progress for a session of conn with stdio,
// when stderr is a terminal; it returns stdio (counted, if the socket
// cannot count itself) and nil when there is nothing to draw.
func (r *runner) startProgress(conn, stdio stream.Conn) (stream.Conn, *progress) {
	f, ok := r.stderr.(*os.File)
	if !ok || !isTerminal(f) {
		return stdio, nil
	}
	pg := &progress{r: r, done: make(chan struct{}), finished: make(chan struct{})}
	sock, _ := conn.(net.Conn)
	if tc, ok := conn.(*tls.Conn); ok {
		sock = tc.NetConn() // the TLS records' bytes: a little more than the payload
	}
	if count := kernelCounts(sock); count != nil {
		pg.count = count
	} else if p, ok := stdio.(*stream.Pair); ok {
		var in, out atomic.Int64
		p.R = countingReader{p.R, &in}
		p.W = countingWriter{p.W, &out}
		pg.count = func() (int64, int64) { return in.Load(), out.Load() }
	} else {
		return stdio, nil
	}
	total := stdinSize(r.stdin)
	pg.p = mpb.New(mpb.WithOutput(f), mpb.WithRefreshRate(progressEvery), mpb.WithWidth(30))
	if total > 0 {
		pg.sent = pg.p.AddBar(total,
			mpb.PrependDecorators(decor.Name("sent     "), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncWidth)),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncWidth), decor.Name("  ETA "),
				decor.OnComplete(decor.AverageETA(decor.ET_STYLE_GO), "done")))
	} else {
		pg.sent = pg.p.New(0, mpb.NopStyle(),
			mpb.PrependDecorators(decor.Name("sent     "), decor.Current(decor.SizeB1024(0), "% .1f", decor.WCSyncWidth)),
			mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncWidth)))
	}
	pg.recv = pg.p.New(0, mpb.NopStyle(),
		mpb.PrependDecorators(decor.Name("received "), decor.Current(decor.SizeB1024(0), "% .1f", decor.WCSyncWidth)),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncWidth)))
	// Lines sockit prints meanwhile go above the bars.
	r.mu.Lock()
	pg.stderr, r.stderr = r.stderr, pg.p
	r.mu.Unlock()
	go pg.run()
	return stdio, pg
}

// run moves the bars until the session ends.
func (pg *progress) run() {
	defer close(pg.finished)
	t := time.NewTicker(progressEvery)
	defer t.Stop()
	for {
		select {
		case <-pg.done:
			pg.update()
			return
		case <-t.C:
			pg.update()
		}
	}
}

func (pg *progress) update() {
	sent, recv := pg.count()
	pg.sent.SetCurrent(sent)
	pg.recv.SetCurrent(recv)
}

// stop draws the session's final counts and gives stderr back.
func (pg *progress) stop(st relay.Stats) {
	if pg == nil {
		return
	}
	close(pg.done)
	<-pg.finished
	pg.sent.SetCurrent(st.AToB)
	pg.recv.SetCurrent(st.BToA)
	pg.sent.SetTotal(-1, true)
	pg.recv.SetTotal(-1, true)
	pg.p.Wait()
	pg.r.mu.Lock()
	pg.r.stderr = pg.stderr
	pg.r.mu.Unlock()
}

// stdinSize is what is left to read of stdin when it is a regular file,
// or 0.
func stdinSize(in io.Reader) int64 {
	f, ok := in.(*os.File)
	if !ok {
		return 0
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil || off > st.Size() {
		return 0
	}
	return st.Size() - off
}

type countingReader struct {
	io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.Reader.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type countingWriter struct {
	io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.Writer.Write(p)
	c.n.Add(int64(n))
	return n, err
}
