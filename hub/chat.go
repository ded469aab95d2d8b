package hub

import (
	"fmt"
	"slices"
	"strconv"
)

// appendChat appends lines to dst as ncat's chat sends them: each line
// prefixed with "<userID> ", and every byte that is not printable ASCII,
// tab, CR or LF written as a backslash and three octal digits.
func appendChat(dst []byte, id int, lines []byte) []byte {
	start := true
	for _, c := range lines {
		if start {
			dst = append(dst, "<user"...)
			dst = strconv.AppendInt(dst, int64(id), 10)
			dst = append(dst, "> "...)
			start = false
		}
		switch {
		case c == '\n':
			start = true
			dst = append(dst, c)
		case c == '\t' || c == '\r' || (c >= ' ' && c < 0x7f):
			dst = append(dst, c)
		default:
			dst = append(dst, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
		}
	}
	return dst
}

// joinNotice is what everyone, m included, hears when m joins a chat:
// its address and id, and who else is there in id order. h.mu is held.
func (h *Hub) joinNotice(m *member) []byte {
	p := fmt.Appendf(nil, "<announce> %s is connected as <user%d>.\n<announce> already connected: ", peerName(m.conn), m.id)
	others := make([]*member, 0, len(h.members)-1)
	for _, o := range h.members {
		if o != m {
			others = append(others, o)
		}
	}
	slices.SortFunc(others, func(a, b *member) int { return a.id - b.id })
	for i, o := range others {
		if i == maxListed {
			p = fmt.Appendf(p, " and %d more", len(others)-maxListed)
			break
		}
		if i > 0 {
			p = append(p, ", "...)
		}
		p = fmt.Appendf(p, "%s as <user%d>", peerName(o.conn), o.id)
	}
	if len(others) == 0 {
		p = append(p, "nobody"...)
	}
	return append(p, ".\n"...)
}
