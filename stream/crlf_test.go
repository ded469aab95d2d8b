package stream_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"testing/iotest"

	"github.com/sockit/sockit/stream"
)

// chunks is a Conn whose reads return the given chunks one by one.
type chunks struct {
	parts [][]byte
	wrote bytes.Buffer
}

func (c *chunks) Read(p []byte) (int, error) {
	if len(c.parts) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.parts[0])
	c.parts[0] = c.parts[0][n:]
	if len(c.parts[0]) == 0 {
		c.parts = c.parts[1:]
	}
	return n, nil
}
func (c *chunks) Write(p []byte) (int, error) { return c.wrote.Write(p) }
func (c *chunks) CloseWrite() error           { return nil }
func (c *chunks) Close() error                { return nil }
func (c *chunks) LocalAddr() net.Addr         { return nil }
func (c *chunks) RemoteAddr() net.Addr        { return nil }

func TestCRLF(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"plain", []string{"a\r\nb\r\n"}, "a\nb\n"},
		{"split CRLF", []string{"a\r", "\nb"}, "a\nb"},
		{"lone CR", []string{"a\rb"}, "a\rb"},
		{"CR at end", []string{"a\r"}, "a\r"},
		{"CR then CR LF", []string{"\r", "\r\n"}, "\r\n"},
		{"LF alone", []string{"a\nb"}, "a\nb"},
	}
	for _, tt := range tests {
		c := &chunks{}
		for _, p := range tt.parts {
			c.parts = append(c.parts, []byte(p))
		}
		got, err := io.ReadAll(iotest.OneByteReader(stream.CRLF(c)))
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: read %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	c := &chunks{}
	if n, err := stream.CRLF(c).Write([]byte("a\nb\n")); n != 4 || err != nil || c.wrote.String() != "a\r\nb\r\n" {
		t.Errorf("write: %d, %v, wrote %q", n, err, c.wrote.String())
	}
}
