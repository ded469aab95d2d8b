//go:build linux

// Command sockmap is issue 16's experiment: a TCP relay whose bytes never
// reach user space. Each session's two sockets go into a BPF sockmap with
// an sk_skb verdict program that redirects what one receives to the
// other's egress; user space only waits for each side's EOF, passes it
// on as a half-close once the kernel has moved every byte (TCP_INFO and
// SIOCOUTQ say when), and reads the counts from TCP_INFO.
//
// It is a bench program, not sockit's relay: it exists to measure the
// kernel's forwarding against the relay's splice loop (bench/relay.sh
// with SOCKMAP=1), IPv4 and IPv6 TCP only. It needs root (or CAP_BPF
// and CAP_NET_ADMIN).
//
//	sockmap LISTEN UPSTREAM      e.g. sockmap 127.0.0.1:9000 127.0.0.1:5201
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

const maxSockets = 1 << 14

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: sockmap LISTEN UPSTREAM")
		os.Exit(2)
	}
	k, err := newKernelRelay()
	if err != nil {
		log.Fatalf("sockmap: %v", err)
	}
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		log.Fatalf("sockmap: %v", err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatalf("sockmap: accept: %v", err)
		}
		go func() {
			if err := k.session(c.(*net.TCPConn), os.Args[2]); err != nil {
				log.Printf("sockmap: %v", err)
			}
		}()
	}
}

// kernelRelay is the sockmap, the peer table and the verdict program.
type kernelRelay struct {
	sockets *ebpf.Map // SOCKMAP: slot -> socket
	peers   *ebpf.Map // HASH: socket cookie -> the peer's slot
	prog    *ebpf.Program

	mu   sync.Mutex
	free []uint32
}

func newKernelRelay() (*kernelRelay, error) {
	sockets, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.SockMap, KeySize: 4, ValueSize: 4, MaxEntries: maxSockets})
	if err != nil {
		return nil, fmt.Errorf("sockmap: %w", err)
	}
	peers, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 8, ValueSize: 4, MaxEntries: maxSockets})
	if err != nil {
		return nil, fmt.Errorf("peer map: %w", err)
	}
	// r0 = the peer's slot for this socket's cookie, or SK_PASS when it
	// has none; then redirect the skb to that slot's egress.
	const skPass = 1
	insns := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.FnGetSocketCookie.Call(),
		asm.StoreMem(asm.RFP, -8, asm.R0, asm.DWord),
		asm.LoadMapPtr(asm.R1, peers.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -8),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "pass"),
		asm.LoadMem(asm.R3, asm.R0, 0, asm.Word),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, sockets.FD()),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnSkRedirectMap.Call(),
		asm.Return(),
		asm.Mov.Imm(asm.R0, skPass).WithSymbol("pass"),
		asm.Return(),
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.SkSKB, AttachType: ebpf.AttachSkSKBVerdict, Instructions: insns, License: "GPL"})
	if err != nil {
		return nil, fmt.Errorf("verdict program: %w", err)
	}
	if err := attach(sockets, prog); err != nil {
		return nil, fmt.Errorf("attach the verdict program: %w", err)
	}
	k := &kernelRelay{sockets: sockets, peers: peers, prog: prog}
	for i := uint32(maxSockets); i > 0; i-- {
		k.free = append(k.free, i-1)
	}
	return k, nil
}

// attach makes prog the map's verdict program.
func attach(m *ebpf.Map, prog *ebpf.Program) error {
	return link.RawAttachProgram(link.RawAttachProgramOptions{Target: m.FD(), Program: prog, Attach: ebpf.AttachSkSKBVerdict})
}

func (k *kernelRelay) slots() (uint32, uint32, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.free) < 2 {
		return 0, 0, errors.New("sockmap full")
	}
	a, b := k.free[len(k.free)-1], k.free[len(k.free)-2]
	k.free = k.free[:len(k.free)-2]
	return a, b, nil
}

func (k *kernelRelay) release(a, b uint32) {
	k.mu.Lock()
	k.free = append(k.free, a, b)
	k.mu.Unlock()
}

// side is one socket of a session.
type side struct {
	c      *net.TCPConn
	fd     int
	slot   uint32
	cookie uint64
}

func newSide(c *net.TCPConn, slot uint32) (*side, error) {
	f, err := c.File() // a blocking duplicate for the syscalls below
	if err != nil {
		return nil, err
	}
	fd, err := unix.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, err
	}
	cookie, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_COOKIE)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &side{c: c, fd: fd, slot: slot, cookie: cookie}, nil
}

// session relays c with a fresh connection to upstream, in the kernel.
func (k *kernelRelay) session(c *net.TCPConn, upstream string) error {
	defer c.Close()
	uc, err := net.Dial("tcp", upstream)
	if err != nil {
		return err
	}
	u := uc.(*net.TCPConn)
	defer u.Close()
	sa, sb, err := k.slots()
	if err != nil {
		return err
	}
	defer k.release(sa, sb)
	a, err := newSide(c, sa)
	if err != nil {
		return err
	}
	defer unix.Close(a.fd)
	b, err := newSide(u, sb)
	if err != nil {
		return err
	}
	defer unix.Close(b.fd)
	// Peers first, then the sockets: a byte that arrives once a socket
	// is in the map finds where it goes.
	for _, p := range [][2]*side{{a, b}, {b, a}} {
		if err := k.peers.Put(p[0].cookie, p[1].slot); err != nil {
			return err
		}
		defer k.peers.Delete(p[0].cookie) //nolint:errcheck
	}
	for _, s := range []*side{b, a} {
		if err := k.sockets.Put(s.slot, uint32(s.fd)); err != nil {
			// Not established any more (a client that sent its FIN
			// already): user space copies, as the relay would.
			return copyBoth(c, u)
		}
		defer k.sockets.Delete(s.slot) //nolint:errcheck
	}
	var wg sync.WaitGroup
	for _, p := range [][2]*side{{a, b}, {b, a}} {
		wg.Go(func() { direction(p[0], p[1]) })
	}
	wg.Wait()
	return nil
}

// copyBoth is the fallback: io.Copy each way, with half-close.
func copyBoth(a, b *net.TCPConn) error {
	var wg sync.WaitGroup
	for _, p := range [][2]*net.TCPConn{{a, b}, {b, a}} {
		wg.Go(func() {
			io.Copy(p[1], p[0]) //nolint:errcheck
			p[1].CloseWrite()
		})
	}
	wg.Wait()
	return nil
}

// direction waits for src's EOF and passes it on to dst once every byte
// src received has been written to dst; it returns that count. Bytes
// that reached user space (sent before the socket joined the map) are
// written by hand.
func direction(src, dst *side) int64 {
	rc, err := src.c.SyscallConn()
	if err != nil {
		return 0
	}
	buf := make([]byte, 64<<10)
	eof := false
	for !eof {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, rerr = unix.Read(int(fd), buf)
			return rerr != unix.EAGAIN
		}); err != nil {
			return 0
		}
		switch {
		case rerr != nil:
			return 0 // reset: the deferred closes end the session
		case n == 0:
			eof = true
		default:
			if _, err := dst.c.Write(buf[:n]); err != nil {
				return 0
			}
		}
	}
	received := tcpInfo(src.fd).Bytes_received
	for i := 0; ; i++ {
		if written(dst.fd) >= received || i > 10000 {
			break
		}
		time.Sleep(50 * time.Microsecond)
	}
	dst.c.CloseWrite()
	return int64(received)
}

// written is what a socket has been given to send: acknowledged, plus
// still queued.
func written(fd int) uint64 {
	outq, _ := unix.IoctlGetInt(fd, unix.SIOCOUTQ)
	return tcpInfo(fd).Bytes_acked + uint64(outq)
}

func tcpInfo(fd int) unix.TCPInfo {
	ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return unix.TCPInfo{}
	}
	return *ti
}
