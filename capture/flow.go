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

// frame builds one IP packet from side d (0: orig) and queues it. The
// payload is copied now; headers and checksums are built by the
// writer's goroutine (appendEPB).
func (f *Flow) frame(d int, flags byte, payload []byte, t time.Time) {
	fr := &frame{id: f.id, t: t, udp: f.udp, src: f.orig, dst: f.resp, seq: f.seq[d], ack: f.seq[1-d], flags: flags}
	if d == 1 {
		fr.src, fr.dst = f.resp, f.orig
	}
	if len(payload) > 0 {
		fr.payload = append([]byte(nil), payload...)
	}
	f.w.packet(fr)
}

// frame is one synthetic packet waiting to be written.
type frame struct {
	id       int
	t        time.Time
	udp      bool
	src, dst netip.AddrPort
	seq, ack uint32
	flags    byte
	payload  []byte
}

// appendEPB appends the frame as an Enhanced Packet Block: block
// header, IP and TCP or UDP headers with their checksums, payload.
func (fr *frame) appendEPB(b []byte) []byte {
	ipLen, l4Len := 20, 20
	if !fr.src.Addr().Is4() {
		ipLen = 40
	}
	if fr.udp {
		l4Len = 8
	}
	pktLen := ipLen + l4Len + len(fr.payload)
	total := 28 + (pktLen+3)&^3 + 4
	start := len(b)
	b = append(b, make([]byte, total)...)
	blk := b[start:]
	le := binary.LittleEndian
	le.PutUint32(blk[0:], blockEPB)
	le.PutUint32(blk[4:], uint32(total))
	le.PutUint32(blk[8:], uint32(fr.id))
	ns := uint64(fr.t.UnixNano())
	le.PutUint32(blk[12:], uint32(ns>>32))
	le.PutUint32(blk[16:], uint32(ns))
	le.PutUint32(blk[20:], uint32(pktLen))
	le.PutUint32(blk[24:], uint32(pktLen))
	le.PutUint32(blk[total-4:], uint32(total))
	pkt := blk[28 : 28+pktLen]
	ip, l4 := pkt[:ipLen], pkt[ipLen:]
	copy(l4[l4Len:], fr.payload)
	be := binary.BigEndian
	proto := byte(6)
	be.PutUint16(l4[0:], fr.src.Port())
	be.PutUint16(l4[2:], fr.dst.Port())
	if fr.udp {
		proto = 17
		be.PutUint16(l4[4:], uint16(len(l4)))
	} else {
		be.PutUint32(l4[4:], fr.seq)
		if fr.flags&flagACK != 0 {
			be.PutUint32(l4[8:], fr.ack)
		}
		l4[12] = 5 << 4
		l4[13] = fr.flags
		be.PutUint16(l4[14:], 65535) // window
	}
	if ipLen == 20 {
		ip[0], ip[8], ip[9] = 0x45, 64, proto
		be.PutUint16(ip[2:], uint16(pktLen))
		ip[6] = 0x40 // don't fragment
		sa, da := fr.src.Addr().As4(), fr.dst.Addr().As4()
		copy(ip[12:], sa[:])
		copy(ip[16:], da[:])
		be.PutUint16(ip[10:], ^fold(sum(ip, 0)))
	} else {
		ip[0], ip[6], ip[7] = 0x60, proto, 64
		be.PutUint16(ip[4:], uint16(len(l4)))
		sa, da := fr.src.Addr().As16(), fr.dst.Addr().As16()
		copy(ip[8:], sa[:])
		copy(ip[24:], da[:])
	}
	// The transport checksum over the pseudo-header, so that no frame
	// reads as corrupt.
	ps := sum(fr.src.Addr().AsSlice(), 0)
	ps = sum(fr.dst.Addr().AsSlice(), ps)
	ps += uint64(proto) + uint64(len(l4))
	c := ^fold(sum(l4, ps))
	if fr.udp {
		if c == 0 {
			c = 0xffff
		}
		be.PutUint16(l4[6:], c)
	} else {
		be.PutUint16(l4[16:], c)
	}
	return b
}

// sum adds b to the ones' complement sum acc, as 16-bit big-endian
// words, eight bytes at a time.
func sum(b []byte, acc uint64) uint64 {
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		acc += v >> 48
		acc += (v >> 32) & 0xffff
		acc += (v >> 16) & 0xffff
		acc += v & 0xffff
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

func fold(acc uint64) uint16 {
	for acc > 0xffff {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
