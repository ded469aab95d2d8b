package events

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// IANA protocol numbers of the flows sockit carries.
const (
	ProtoTCP = 6
	ProtoUDP = 17
)

// CommunityID is the Community ID flow hash, version 1, of a TCP or UDP
// flow (https://github.com/corelight/community-id-spec): the same string
// whichever way the flow is given, so it joins sockit's events with
// Zeek's, Suricata's and Wireshark's view of the same connection.
// It returns "" for addresses that are not valid or not of one family.
func CommunityID(proto uint8, src, dst netip.AddrPort, seed uint16) string {
	sa, da := src.Addr().Unmap(), dst.Addr().Unmap()
	if !sa.IsValid() || !da.IsValid() || sa.Is4() != da.Is4() {
		return ""
	}
	sp, dp := src.Port(), dst.Port()
	// The smaller endpoint first, so both directions hash alike.
	if c := sa.Compare(da); c > 0 || (c == 0 && sp > dp) {
		sa, da, sp, dp = da, sa, dp, sp
	}
	buf := make([]byte, 0, 2+16+16+4+4)
	buf = binary.BigEndian.AppendUint16(buf, seed)
	buf = append(buf, sa.AsSlice()...)
	buf = append(buf, da.AsSlice()...)
	buf = append(buf, proto, 0)
	buf = binary.BigEndian.AppendUint16(buf, sp)
	buf = binary.BigEndian.AppendUint16(buf, dp)
	sum := sha1.Sum(buf)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}
