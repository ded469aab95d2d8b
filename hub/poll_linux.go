package hub

import (
	"errors"
	"net"
	"sync"

	"golang.org/x/sys/unix"
)

// poller reads the room's sockets from one epoll set, so that an idle
// client costs no goroutine and no buffer. It is level-triggered: each
// readiness gets one read of up to bufSize, and what is left is reported
// again, so a talkative client cannot starve the others.
type poller struct {
	h    *Hub
	epfd int
	wake int           // an eventfd: close writes it to end the loop
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
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err == nil {
		err = unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: -1})
	}
	if err != nil {
		unix.Close(epfd)
		if wake >= 0 {
			unix.Close(wake)
		}
		return nil
	}
	p := &poller{h: h, epfd: epfd, wake: wake, done: make(chan struct{})}
	go p.run()
	return p
}

// adopt sets m.fd if m's conn is a plain TCP or Unix socket.
func (p *poller) adopt(m *member) {
	if p == nil {
		return
	}
	var rc interface{ Control(func(uintptr)) error }
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

func (p *poller) run() {
	defer close(p.done)
	defer unix.Close(p.epfd)
	defer unix.Close(p.wake)
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for _, ev := range events[:n] {
			if ev.Fd < 0 {
				return
			}
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
	unix.Write(p.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0}) //nolint:errcheck // a full counter wakes it too
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
