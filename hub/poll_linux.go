package hub

import (
	"errors"
	"net"
	"os"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// poller reads the room's sockets from one epoll set, so that an idle
// client costs no goroutine and no buffer. The set is level-triggered:
// each readiness gets one read of up to bufSize, and what is left is
// reported again, so a talkative client cannot starve the others. The set
// itself waits in Go's own poller (an epoll descriptor is readable while
// it has events), so the loop parks like any goroutine blocked on a socket
// instead of holding a thread in epoll_wait.
type poller struct {
	h    *Hub
	epfd int
	file *os.File      // epfd, registered with Go's poller; closing it ends the loop
	done chan struct{} // closed when the loop has ended

	mu    sync.Mutex
	slots []*member // by the slot number the epoll set carries
	free  []int32
}

// newPoller starts the hub's epoll loop, or returns nil if the system
// refuses one (the hub then reads every client from a goroutine).
func newPoller(h *Hub) *poller {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil
	}
	p := &poller{h: h, epfd: epfd, file: os.NewFile(uintptr(epfd), "hub-epoll"), done: make(chan struct{})}
	rc, err := p.file.SyscallConn()
	if err != nil {
		p.file.Close()
		return nil
	}
	go p.run(rc)
	return p
}

// adopt sets m.fd if m's conn is a plain TCP or Unix socket.
func (p *poller) adopt(m *member) {
	if p == nil {
		return
	}
	var rc syscall.RawConn
	switch c := m.conn.(type) {
	case *net.TCPConn:
		rc, _ = c.SyscallConn()
	case *net.UnixConn:
		rc, _ = c.SyscallConn()
	}
	if rc != nil {
		rc.Control(func(fd uintptr) { m.fd = int(fd) }) //nolint:errcheck // an error leaves fd at -1
	}
}

// add puts m's socket in the epoll set.
func (p *poller) add(m *member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gone {
		return nil // cut off already; its leave is under way
	}
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		m.slot = p.free[n-1]
		p.free = p.free[:n-1]
	} else {
		m.slot = int32(len(p.slots))
		p.slots = append(p.slots, nil)
	}
	p.slots[m.slot] = m
	p.mu.Unlock()
	err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, m.fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: m.slot})
	if err != nil {
		p.release(m)
	}
	return err
}

// remove takes m's socket out of the epoll set; m.mu is held and m.fd
// still open.
func (p *poller) remove(m *member) {
	if p == nil || m.fd < 0 {
		return
	}
	unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, m.fd, nil) //nolint:errcheck // closing the fd removes it anyway
	p.release(m)
}

func (p *poller) release(m *member) {
	p.mu.Lock()
	if p.slots[m.slot] == m {
		p.slots[m.slot] = nil
		p.free = append(p.free, m.slot)
	}
	p.mu.Unlock()
}

func (p *poller) run(rc syscall.RawConn) {
	defer close(p.done)
	events := make([]unix.EpollEvent, 128)
	for {
		var n int
		err := rc.Read(func(uintptr) bool {
			var err error
			n, err = unix.EpollWait(p.epfd, events, 0)
			return err != unix.EINTR && n != 0 // nothing ready: park in Go's poller
		})
		if err != nil {
			return // closed
		}
		for _, ev := range events[:max(n, 0)] {
			p.mu.Lock()
			var m *member
			if int(ev.Fd) < len(p.slots) {
				m = p.slots[ev.Fd]
			}
			p.mu.Unlock()
			if m != nil {
				// A slot reused since the event was queued gets a read
				// that finds nothing: harmless.
				p.h.readFrom(m)
			}
		}
	}
}

// close ends the loop and releases the epoll set.
func (p *poller) close() {
	if p == nil {
		return
	}
	p.file.Close()
	<-p.done
}

// readFrom reads what m sent once, and relays it or lets m leave.
func (h *Hub) readFrom(m *member) {
	bp := h.bufs.Get().(*[]byte)
	defer h.bufs.Put(bp)
	m.mu.Lock()
	if m.gone {
		m.mu.Unlock()
		return
	}
	n, err := unix.Read(m.fd, *bp)
	m.mu.Unlock()
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
	case n > 0:
		m.said((*bp)[:n])
	default:
		m.flushPartial()
		h.leave(m, err) // n == 0: end of stream, err nil
	}
}

// writeNow writes what fd takes of p without waiting.
func writeNow(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Write(fd, p)
		switch {
		case err == nil:
			return n, nil
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.EAGAIN):
			return 0, nil
		}
		return 0, err
	}
}
