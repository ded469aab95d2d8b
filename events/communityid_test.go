package events

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sockit/sockit/internal/testenv"
)

// The spec's own example (community-id-spec README).
func TestCommunityIDSpecExample(t *testing.T) {
	src := netip.MustParseAddrPort("128.232.110.120:34855")
	dst := netip.MustParseAddrPort("66.35.250.204:80")
	const want = "1:LQU9qZlK+B5F3KDmev6m5PMibrg="
	if got := CommunityID(ProtoTCP, src, dst, 0); got != want {
		t.Errorf("CommunityID = %q, want %q", got, want)
	}
	if got := CommunityID(ProtoTCP, dst, src, 0); got != want {
		t.Errorf("reversed: CommunityID = %q, want %q", got, want)
	}
}

var communityFlows = []struct {
	proto    uint8
	src, dst string
}{
	{ProtoTCP, "128.232.110.120:34855", "66.35.250.204:80"},
	{ProtoTCP, "66.35.250.204:80", "128.232.110.120:34855"},
	{ProtoUDP, "192.168.1.52:54585", "8.8.8.8:53"},
	{ProtoTCP, "127.0.0.1:9000", "127.0.0.1:40000"}, // one address: the smaller port first
	{ProtoTCP, "127.0.0.1:40000", "127.0.0.1:9000"},
	{ProtoUDP, "[::1]:5353", "[::1]:53"},
	{ProtoTCP, "[2001:db8::1]:443", "[fe80::1]:51000"},
	{ProtoTCP, "[::ffff:10.0.0.1]:80", "10.0.0.2:1234"}, // a mapped address hashes as IPv4
}

// TestCommunityIDMatchesWireshark: Wireshark's own Community ID
// dissector, run over a capture of each flow, gives the same strings.
func TestCommunityIDMatchesWireshark(t *testing.T) {
	tshark := testenv.Peer(t, "tshark")
	var pcap bytes.Buffer
	pcap.Write(binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4))
	pcap.Write([]byte{2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0, 0, 0}) // LINKTYPE_RAW
	var want, want1 []string
	for _, f := range communityFlows {
		src, dst := netip.MustParseAddrPort(f.src), netip.MustParseAddrPort(f.dst)
		pkt := rawPacket(f.proto, src, dst)
		rec := make([]byte, 16)
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(pkt)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(pkt)))
		pcap.Write(rec)
		pcap.Write(pkt)
		want = append(want, CommunityID(f.proto, src, dst, 0))
		want1 = append(want1, CommunityID(f.proto, src, dst, 1))
	}
	file := filepath.Join(t.TempDir(), "flows.pcap")
	if err := os.WriteFile(file, pcap.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for seed, want := range [][]string{want, want1} {
		out, err := exec.Command(tshark, "-r", file, "--enable-protocol", "communityid",
			"-o", "communityid.seed:"+strconv.Itoa(seed), "-T", "fields", "-e", "communityid").Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		got := strings.Fields(string(out))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("seed %d: Wireshark:\n%s\nsockit:\n%s", seed, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// rawPacket is an IP packet with a TCP SYN or an empty UDP datagram
// from src to dst (checksums left zero: the hash does not read them).
func rawPacket(proto uint8, src, dst netip.AddrPort) []byte {
	var l4 []byte
	if proto == ProtoTCP {
		l4 = make([]byte, 20)
		l4[12], l4[13] = 5<<4, 0x02 // header length 5 words; SYN
	} else {
		l4 = make([]byte, 8)
		binary.BigEndian.PutUint16(l4[4:], 8)
	}
	binary.BigEndian.PutUint16(l4[0:], src.Port())
	binary.BigEndian.PutUint16(l4[2:], dst.Port())
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	if sa.Is4() {
		ip := make([]byte, 20)
		ip[0], ip[8], ip[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(ip[2:], uint16(20+len(l4)))
		copy(ip[12:], sa.AsSlice())
		copy(ip[16:], da.AsSlice())
		return append(ip, l4...)
	}
	ip := make([]byte, 40)
	ip[0], ip[6], ip[7] = 0x60, proto, 64
	binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
	copy(ip[8:], sa.AsSlice())
	copy(ip[24:], da.AsSlice())
	return append(ip, l4...)
}

func TestCommunityIDRefuses(t *testing.T) {
	v4 := netip.MustParseAddrPort("127.0.0.1:1")
	v6 := netip.MustParseAddrPort("[::1]:1")
	for _, tt := range [][2]netip.AddrPort{{v4, v6}, {{}, v4}, {v6, {}}} {
		if got := CommunityID(ProtoTCP, tt[0], tt[1], 0); got != "" {
			t.Errorf("CommunityID(%v, %v) = %q, want \"\"", tt[0], tt[1], got)
		}
	}
}

func TestSeedChangesTheHash(t *testing.T) {
	a, b := netip.MustParseAddrPort("10.0.0.1:1"), netip.MustParseAddrPort("10.0.0.2:2")
	if CommunityID(ProtoTCP, a, b, 0) == CommunityID(ProtoTCP, a, b, 1) {
		t.Error("seed 1 hashes as seed 0")
	}
}
