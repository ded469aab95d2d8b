package monitor

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tcpCounts is what the kernel says a TCP socket has moved so far.
type tcpCounts struct{ sent, received uint64 }

// tcpSockets asks the kernel (sock_diag, as ss does) what every TCP
// socket of this network namespace has sent (and had acknowledged) and
// received, by its local and remote address. It reads the sockets from
// outside the data path: the relay's loop engine and splice keep their
// counts to themselves until a direction ends.
func tcpSockets() (map[[2]netip.AddrPort]tcpCounts, error) {
	out := map[[2]netip.AddrPort]tcpCounts{}
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if err := dumpTCP(family, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inet_diag's request and the head of its answer (linux/inet_diag.h).
const (
	inetDiagInfo   = 2  // INET_DIAG_INFO: struct tcp_info
	sockIDLen      = 48 // struct inet_diag_sockid
	diagMsgLen     = 4 + sockIDLen + 20
	tcpInfoOffAck  = 120 // tcpi_bytes_acked in struct tcp_info
	tcpInfoOffRecv = 128 // tcpi_bytes_received
)

func dumpTCP(family uint8, out map[[2]netip.AddrPort]tcpCounts) error {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	// nlmsghdr, then inet_diag_req_v2: family, protocol, ext, pad,
	// states, and a zero sockid (all sockets).
	req := make([]byte, 16+8+sockIDLen)
	binary.NativeEndian.PutUint32(req[0:], uint32(len(req)))
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	binary.NativeEndian.PutUint32(req[8:], 1)
	req[16], req[17], req[18] = family, unix.IPPROTO_TCP, 1<<(inetDiagInfo-1)
	binary.NativeEndian.PutUint32(req[20:], 0xffffffff) // every state
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return err
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return nil
			case unix.NLMSG_ERROR:
				return syscall.EINVAL
			}
			parseDiag(m.Data, out)
		}
	}
}

// parseDiag reads one inet_diag_msg and its tcp_info attribute.
func parseDiag(b []byte, out map[[2]netip.AddrPort]tcpCounts) {
	if len(b) < diagMsgLen {
		return
	}
	family := b[0]
	id := b[4 : 4+sockIDLen]
	sport, dport := binary.BigEndian.Uint16(id[0:]), binary.BigEndian.Uint16(id[2:])
	var src, dst netip.Addr
	if family == unix.AF_INET {
		src = netip.AddrFrom4([4]byte(id[4:8]))
		dst = netip.AddrFrom4([4]byte(id[20:24]))
	} else {
		src = netip.AddrFrom16([16]byte(id[4:20]))
		dst = netip.AddrFrom16([16]byte(id[20:36]))
	}
	attrs := b[diagMsgLen:]
	for len(attrs) >= 4 {
		l, typ := int(binary.NativeEndian.Uint16(attrs[0:])), binary.NativeEndian.Uint16(attrs[2:])
		if l < 4 || l > len(attrs) {
			return
		}
		if typ == inetDiagInfo && l-4 >= tcpInfoOffRecv+8 {
			info := attrs[4:l]
			out[[2]netip.AddrPort{netip.AddrPortFrom(src.Unmap(), sport), netip.AddrPortFrom(dst.Unmap(), dport)}] = tcpCounts{
				sent:     binary.NativeEndian.Uint64(info[tcpInfoOffAck:]),
				received: binary.NativeEndian.Uint64(info[tcpInfoOffRecv:]),
			}
		}
		attrs = attrs[(l+3)&^3:]
	}
}

// The offsets above are those of x/sys/unix's TCPInfo, checked at build.
var _ = [1]struct{}{}[unsafe.Offsetof(unix.TCPInfo{}.Bytes_acked)-tcpInfoOffAck]
var _ = [1]struct{}{}[unsafe.Offsetof(unix.TCPInfo{}.Bytes_received)-tcpInfoOffRecv]
