package stream_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/sockit/sockit/stream"
)

// chunky reads at most a random few bytes at a time.
type chunky struct {
	r   io.Reader
	rng *rand.Rand
}

func (c *chunky) Read(p []byte) (int, error) {
	return c.r.Read(p[:min(len(p), 1+c.rng.IntN(70000))])
}

// TestEchoExact: what goes in by Write or ReadFrom comes out by Read or
// WriteTo, byte for byte, in order, and the end follows CloseWrite.
func TestEchoExact(t *testing.T) {
	want := make([]byte, 5<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	for _, c := range []struct {
		name            string
		readFrom, write bool
	}{{"ReadFrom/WriteTo", true, true}, {"Write/Read", false, false}, {"ReadFrom/Read", true, false}, {"Write/WriteTo", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			e := stream.NewEcho()
			go func() {
				src := &chunky{bytes.NewReader(want), rand.New(rand.NewPCG(3, 4))}
				if c.readFrom {
					e.ReadFrom(src)
				} else {
					buf := make([]byte, 50000)
					for {
						n, err := src.Read(buf)
						e.Write(buf[:n])
						if err != nil {
							break
						}
					}
				}
				e.CloseWrite()
			}()
			var got bytes.Buffer
			var err error
			if c.write {
				_, err = e.WriteTo(&got)
			} else {
				_, err = io.Copy(&got, struct{ io.Reader }{e})
			}
			if err != nil || !bytes.Equal(got.Bytes(), want) {
				t.Fatalf("got %d bytes (%v), want %d the same", got.Len(), err, len(want))
			}
			if n, err := e.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("after the end: %d, %v", n, err)
			}
			if _, err := e.Write([]byte("x")); err == nil {
				t.Error("a write after CloseWrite succeeded")
			}
		})
	}
}

// TestEchoClose: Close wakes a writer waiting for room and a reader
// waiting for data, and both fail from then on.
func TestEchoClose(t *testing.T) {
	e := stream.NewEcho()
	wrote := make(chan error)
	go func() {
		_, err := e.Write(make([]byte, 1<<20)) // more than it holds: waits
		wrote <- err
	}()
	r := stream.NewEcho()
	read := make(chan error)
	go func() {
		_, err := r.Read(make([]byte, 10)) // nothing written: waits
		read <- err
	}()
	e.Close()
	r.Close()
	if err := <-wrote; err == nil {
		t.Error("the waiting write succeeded after Close")
	}
	if err := <-read; !errors.Is(err, net.ErrClosed) {
		t.Errorf("the waiting read: %v", err)
	}
}

func TestEchoIsConn(t *testing.T) {
	var c stream.Conn = stream.NewEcho()
	if c.LocalAddr() != nil || c.RemoteAddr() != nil {
		t.Error("an Echo has addresses")
	}
}
