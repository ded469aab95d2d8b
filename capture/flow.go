package capture

import (
	"encoding/binary"
	"net/netip"
	"sync"
	"time"
)

// maxSegment is the most payload one synthetic frame carries: an IP
// packet stays under 64 KiB.
const maxSegment = 65000

// TCP flag bits.
const (
	flagFIN = 0x01
	flagSYN = 0x02
	flagRST = 0x04
	flagPSH = 0x08
	flagACK = 0x10
)

// Flow is one synthetic conversation on an interface: TCP, with a
// handshake, sequence numbers and FIN or RST, or UDP datagrams. Its
// methods are safe for use from the two directions' goroutines.
type Flow struct {
	w          *Writer
	id         int
	udp        bool
	orig, resp netip.AddrPort
	mu         sync.Mutex
	seq        [2]uint32 // the next sequence number each way: 0 from orig, 1 from resp
	fin        [2]bool
}

// TCP starts a TCP flow on interface id from orig to resp at t: SYN,
// SYN-ACK and ACK. Both addresses must be of one family.
func (cw *Writer) TCP(id int, orig, resp netip.AddrPort, t time.Time) *Flow {
	f := &Flow{w: cw, id: id, orig: unmap(orig), resp: unmap(resp)}
	f.seq = [2]uint32{1000, 5000} // fixed ISNs: Wireshark shows relative numbers anyway
	f.frame(0, flagSYN, nil, t)
	f.seq[0]++
	f.frame(1, flagSYN|flagACK, nil, t)
	f.seq[1]++
	f.frame(0, flagACK, nil, t)
	return f
}

// UDP starts a UDP flow on interface id between orig and resp.
func (cw *Writer) UDP(id int, orig, resp netip.AddrPort) *Flow {
	return &Flow{w: cw, id: id, udp: true, orig: unmap(orig), resp: unmap(resp)}
}

// Data records p sent by the originator (fromOrig) or the responder at
// t, in segments of up to maxSegment bytes; over UDP, one datagram.
func (f *Flow) Data(fromOrig bool, p []byte, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := side(fromOrig)
	if f.udp {
		f.frame(d, 0, p, t)
		return
	}
	for len(p) > 0 {
		n := min(len(p), maxSegment)
		f.frame(d, flagPSH|flagACK, p[:n], t)
		f.seq[d] += uint32(n)
		p = p[n:]
	}
}

// FIN records a half-close by one side at t.
func (f *Flow) FIN(fromOrig bool, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := side(fromOrig)
	if f.udp || f.fin[d] {
		return
	}
	f.frame(d, flagFIN|flagACK, nil, t)
	f.seq[d]++
	f.fin[d] = true
	if f.fin[0] && f.fin[1] {
		f.frame(1-d, flagACK, nil, t) // the last FIN's acknowledgement
	}
}

// RST records a reset sent by one side at t.
func (f *Flow) RST(fromOrig bool, t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.udp {
		return
	}
	f.frame(side(fromOrig), flagRST|flagACK, nil, t)
}

func side(fromOrig bool) int {
	if fromOrig {
		return 0
	}
	return 1
}

func unmap(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// frame builds one IP packet from side d (0: orig) and queues it.
func (f *Flow) frame(d int, flags byte, payload []byte, t time.Time) {
	src, dst := f.orig, f.resp
	if d == 1 {
		src, dst = dst, src
	}
	var l4 []byte
	proto := byte(17)
	if f.udp {
		l4 = make([]byte, 8, 8+len(payload))
		binary.BigEndian.PutUint16(l4[0:], src.Port())
		binary.BigEndian.PutUint16(l4[2:], dst.Port())
		binary.BigEndian.PutUint16(l4[4:], uint16(8+len(payload)))
	} else {
		proto = 6
		l4 = make([]byte, 20, 20+len(payload))
		binary.BigEndian.PutUint16(l4[0:], src.Port())
		binary.BigEndian.PutUint16(l4[2:], dst.Port())
		binary.BigEndian.PutUint32(l4[4:], f.seq[d])
		if flags&flagACK != 0 {
			binary.BigEndian.PutUint32(l4[8:], f.seq[1-d])
		}
		l4[12] = 5 << 4
		l4[13] = flags
		binary.BigEndian.PutUint16(l4[14:], 65535) // window
	}
	l4 = append(l4, payload...)
	var pkt []byte
	if src.Addr().Is4() {
		pkt = make([]byte, 20, 20+len(l4))
		pkt[0], pkt[8], pkt[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(pkt[2:], uint16(20+len(l4)))
		pkt[6] = 0x40 // don't fragment
		sa, da := src.Addr().As4(), dst.Addr().As4()
		copy(pkt[12:], sa[:])
		copy(pkt[16:], da[:])
		binary.BigEndian.PutUint16(pkt[10:], ^fold(sum(pkt, 0)))
	} else {
		pkt = make([]byte, 40, 40+len(l4))
		pkt[0], pkt[6], pkt[7] = 0x60, proto, 64
		binary.BigEndian.PutUint16(pkt[4:], uint16(len(l4)))
		sa, da := src.Addr().As16(), dst.Addr().As16()
		copy(pkt[8:], sa[:])
		copy(pkt[24:], da[:])
	}
	// The transport checksum over the pseudo-header, so that no frame
	// reads as corrupt.
	ps := sum(src.Addr().AsSlice(), 0)
	ps = sum(dst.Addr().AsSlice(), ps)
	ps += uint32(proto) + uint32(len(l4))
	c := ^fold(sum(l4, ps))
	if f.udp {
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(l4[6:], c)
	} else {
		binary.BigEndian.PutUint16(l4[16:], c)
	}
	f.w.packet(f.id, t, append(pkt, l4...))
}

// sum adds b to the ones' complement sum acc, 16 bits at a time.
func sum(b []byte, acc uint32) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
		if acc > 0xffff0000 {
			acc = acc&0xffff + acc>>16
		}
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

func fold(acc uint32) uint16 {
	for acc > 0xffff {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
