package stream

// CRLF wraps c for line protocols, as socat's crlf option: what is written
// has each LF turned into CRLF, and what is read has each CRLF turned into
// LF. The wrapper hides the concrete conn, so the relay copies through
// user space for it.
func CRLF(c Conn) Conn { return &crlfConn{Conn: c} }

type crlfConn struct {
	Conn
	out     []byte // Write's scratch
	buf     []byte // Read's scratch
	pending []byte // converted bytes not yet returned
	cr      bool   // a CR ended the last read; it waits to see the next byte
	err     error  // the error that ended reading
}

func (c *crlfConn) Write(p []byte) (int, error) {
	c.out = c.out[:0]
	for _, b := range p {
		if b == '\n' {
			c.out = append(c.out, '\r')
		}
		c.out = append(c.out, b)
	}
	if _, err := c.Conn.Write(c.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *crlfConn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if c.err != nil {
			if c.cr { // the stream ended on a lone CR: it is data
				c.cr = false
				c.pending = []byte{'\r'}
				break
			}
			return 0, c.err
		}
		if c.buf == nil {
			c.buf = make([]byte, 32*1024)
		}
		n, err := c.Conn.Read(c.buf)
		c.err = err
		out := c.buf[:0] // converting in place never grows the data
		in := c.buf[:n]
		for i, b := range in {
			if c.cr {
				c.cr = false
				if b != '\n' {
					out = append(out, '\r')
				}
			}
			if b == '\r' {
				if i+1 < len(in) {
					if in[i+1] == '\n' {
						continue
					}
					out = append(out, b)
					continue
				}
				c.cr = true
				continue
			}
			out = append(out, b)
		}
		c.pending = out
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// CR wraps c as socat's cr option: each LF written is sent as CR, and
// each CR read is returned as LF.
func CR(c Conn) Conn { return &crConn{Conn: c} }

type crConn struct {
	Conn
	out []byte // Write's scratch
}

func (c *crConn) Write(p []byte) (int, error) {
	c.out = append(c.out[:0], p...)
	swap(c.out, '\n', '\r')
	if _, err := c.Conn.Write(c.out); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *crConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	swap(p[:n], '\r', '\n')
	return n, err
}

// swap replaces every from in p with to.
func swap(p []byte, from, to byte) {
	for i, b := range p {
		if b == from {
			p[i] = to
		}
	}
}
