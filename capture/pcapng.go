// Package capture writes what crossed sockit's sessions as a pcapng file
// that Wireshark and tshark read: each session becomes synthetic TCP or
// UDP frames with the real timestamps, addresses and ports, SYN, FIN and
// RST where they happened, and sequence numbers that add up, on one
// interface per side of the session. TLS key logs go in Decryption
// Secrets Blocks, so that a capture decrypts by itself.
//
// Frames are built on the session's goroutine and written by one of the
// Writer's own, through a bounded queue: a capture that cannot keep up
// drops frames and counts them (an Interface Statistics Block says how
// many when the Writer closes); it never slows a session.
package capture

import (
	"bufio"
	"encoding/binary"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Block types and options of pcapng (draft-ietf-opsawg-pcapng).
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockISB = 0x00000005
	blockEPB = 0x00000006
	blockDSB = 0x0000000A

	optIfName    = 2
	optIfDescr   = 3
	optIfTsresol = 9
	optShbApp    = 4
	optIsbStart  = 2
	optIsbEnd    = 3
	optIsbDrop   = 5
	optIsbRecv   = 4

	secretsTLSKeyLog = 0x544c534b

	linkRaw = 101 // LINKTYPE_RAW: an IPv4 or IPv6 packet, no link header

	byteOrderMagic = 0x1A2B3C4D
)

// Queue bounds: frames waiting to be written, and their bytes.
const (
	maxQueued      = 4096
	maxQueuedBytes = 16 << 20
)

// Writer is a pcapng file being written. Its methods are safe for use
// from many goroutines.
type Writer struct {
	queue   chan record
	queued  atomic.Int64 // bytes in the queue
	done    chan struct{}
	closing sync.Once
	err     error // the first write error; read after done

	mu     sync.Mutex
	ifaces []*iface
	closed bool
}

type iface struct {
	id       int
	received atomic.Int64 // frames queued
	dropped  atomic.Int64 // frames the queue had no room for
	first    atomic.Int64 // UnixNano of the first frame
	last     atomic.Int64
}

// record is one block waiting to be written: a header block built
// already, or a frame that the writer's goroutine builds.
type record struct {
	block []byte
	frame *frame
	size  int64 // what it counts against maxQueuedBytes
}

// NewWriter starts a pcapng section on w. app names the program in the
// section header.
func NewWriter(w io.Writer, app string) (*Writer, error) {
	cw := &Writer{queue: make(chan record, maxQueued), done: make(chan struct{})}
	bw := bufio.NewWriterSize(w, 256<<10)
	shb := block(blockSHB, func(b []byte) []byte {
		b = binary.LittleEndian.AppendUint32(b, byteOrderMagic)
		b = binary.LittleEndian.AppendUint16(b, 1) // version 1.0
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint64(b, ^uint64(0)) // section length not given
		b = option(b, optShbApp, []byte(app))
		return endOptions(b)
	})
	if _, err := bw.Write(shb); err != nil {
		return nil, err
	}
	go cw.run(bw)
	return cw, nil
}

// run writes the queue until Close.
func (cw *Writer) run(bw *bufio.Writer) {
	defer close(cw.done)
	var scratch []byte
	for r := range cw.queue {
		cw.queued.Add(-r.size)
		if r.frame != nil {
			scratch = r.frame.appendEPB(scratch[:0])
			r.block = scratch
		}
		if cw.err == nil {
			_, cw.err = bw.Write(r.block)
		}
		if len(cw.queue) == 0 && cw.err == nil {
			cw.err = bw.Flush()
		}
	}
	if cw.err == nil {
		cw.err = bw.Flush()
	}
}

// Interface adds an interface to the capture: name and description say
// which side of a session it carries ("client 127.0.0.1:40000 → sockit",
// "exec /bin/cat"). It returns the interface's id for the flows on it.
func (cw *Writer) Interface(name, description string) int {
	cw.mu.Lock()
	ifc := &iface{id: len(cw.ifaces)}
	cw.ifaces = append(cw.ifaces, ifc)
	cw.mu.Unlock()
	idb := block(blockIDB, func(b []byte) []byte {
		b = binary.LittleEndian.AppendUint16(b, linkRaw)
		b = binary.LittleEndian.AppendUint16(b, 0)
		b = binary.LittleEndian.AppendUint32(b, 0) // no snap length
		b = option(b, optIfName, []byte(name))
		if description != "" {
			b = option(b, optIfDescr, []byte(description))
		}
		b = option(b, optIfTsresol, []byte{9}) // nanoseconds
		return endOptions(b)
	})
	// Interface blocks are never dropped: the frames after them need them.
	cw.enqueue(record{block: idb}, nil)
	return ifc.id
}

// Secrets adds a TLS key log (NSS format lines) before the frames that
// need it: Wireshark reads it to decrypt the TLS flows of the capture.
func (cw *Writer) Secrets(keyLog []byte) {
	dsb := block(blockDSB, func(b []byte) []byte {
		b = binary.LittleEndian.AppendUint32(b, secretsTLSKeyLog)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(keyLog)))
		return pad(append(b, keyLog...))
	})
	cw.enqueue(record{block: dsb}, nil)
}

// packet queues one frame; it is dropped, and counted, when the queue
// is full.
func (cw *Writer) packet(fr *frame) {
	cw.mu.Lock()
	ifc := cw.ifaces[fr.id]
	cw.mu.Unlock()
	ns := fr.t.UnixNano()
	ifc.first.CompareAndSwap(0, ns)
	ifc.last.Store(ns)
	cw.enqueue(record{frame: fr, size: int64(len(fr.payload)) + 100}, ifc)
}

// enqueue hands r to the writer; a frame (ifc set) is dropped rather
// than wait.
func (cw *Writer) enqueue(r record, ifc *iface) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if cw.closed {
		return
	}
	if ifc == nil {
		cw.queue <- r // a header block waits for room
		return
	}
	if cw.queued.Load()+r.size > maxQueuedBytes {
		ifc.dropped.Add(1)
		return
	}
	select {
	case cw.queue <- r:
		cw.queued.Add(r.size)
		ifc.received.Add(1)
	default:
		ifc.dropped.Add(1)
	}
}

// Dropped is how many frames the queue had no room for, on every
// interface.
func (cw *Writer) Dropped() int64 {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	var n int64
	for _, ifc := range cw.ifaces {
		n += ifc.dropped.Load()
	}
	return n
}

// Close writes each interface's statistics (frames written and dropped),
// flushes, and returns the first write error. It does not close the
// io.Writer.
func (cw *Writer) Close() error {
	cw.closing.Do(func() {
		cw.mu.Lock()
		ifaces := append([]*iface(nil), cw.ifaces...)
		cw.mu.Unlock()
		for _, ifc := range ifaces {
			isb := block(blockISB, func(b []byte) []byte {
				now := uint64(time.Now().UnixNano())
				b = binary.LittleEndian.AppendUint32(b, uint32(ifc.id))
				b = binary.LittleEndian.AppendUint32(b, uint32(now>>32))
				b = binary.LittleEndian.AppendUint32(b, uint32(now))
				if f := ifc.first.Load(); f != 0 {
					b = option(b, optIsbStart, stamp(uint64(f)))
					b = option(b, optIsbEnd, stamp(uint64(ifc.last.Load())))
				}
				b = option(b, optIsbRecv, binary.LittleEndian.AppendUint64(nil, uint64(ifc.received.Load())))
				b = option(b, optIsbDrop, binary.LittleEndian.AppendUint64(nil, uint64(ifc.dropped.Load())))
				return endOptions(b)
			})
			cw.enqueue(record{block: isb}, nil)
		}
		cw.mu.Lock()
		cw.closed = true
		close(cw.queue)
		cw.mu.Unlock()
		<-cw.done
	})
	return cw.err
}

// stamp is a timestamp option's value: high and low 32 bits, in the
// interface's resolution (nanoseconds).
func stamp(ns uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(ns>>32))
	return binary.LittleEndian.AppendUint32(b, uint32(ns))
}

// block frames a block body: type, total length, body, total length.
func block(typ uint32, body func([]byte) []byte) []byte {
	b := make([]byte, 8, 64)
	b = body(b)
	total := uint32(len(b) + 4)
	binary.LittleEndian.PutUint32(b[0:], typ)
	binary.LittleEndian.PutUint32(b[4:], total)
	return binary.LittleEndian.AppendUint32(b, total)
}

// option appends one option, padded to 32 bits.
func option(b []byte, code uint16, value []byte) []byte {
	b = binary.LittleEndian.AppendUint16(b, code)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(value)))
	return pad(append(b, value...))
}

func endOptions(b []byte) []byte { return append(b, 0, 0, 0, 0) } // opt_endofopt

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
