package hub

import (
	"fmt"
	"slices"
	"strconv"
)

// appendChat appends lines to dst as ncat's chat sends them: each line
// prefixed with "<userID> " ("<userID@NODE> " in a room with a node
// name), and every byte that is not printable ASCII, tab, CR or LF
// written as a backslash and three octal digits.
func appendChat(dst []byte, id int, node string, lines []byte) []byte {
	start := true
	for _, c := range lines {
		if start {
			dst = appendID(dst, id, node)
			dst = append(dst, ' ')
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

// appendID appends a chat id: <user5>, or <user5@NODE>.
func appendID(dst []byte, id int, node string) []byte {
	dst = append(dst, "<user"...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	if node != "" {
		dst = append(append(dst, '@'), node...)
	}
	return append(dst, '>')
}

// ID is how the room names member id in chat lines: <user5>, or
// <user5@NODE> when Options.Node is set.
func (h *Hub) ID(id int) string { return string(appendID(nil, id, h.opt.Node)) }

// entry is how a join notice lists m: "ADDRESS as <userN>".
func (h *Hub) entry(m *member) string { return peerName(m.conn) + " as " + h.ID(m.id) }

// joinNotice is what everyone, m included, hears when m joins a chat:
// its address and id, and who else is there in id order (those of other
// processes' rooms after them, from Options.Others). h.mu is held.
func (h *Hub) joinNotice(m *member) []byte {
	p := fmt.Appendf(nil, "<announce> %s is connected as %s.\n<announce> already connected: ", peerName(m.conn), h.ID(m.id))
	others := make([]*member, 0, len(h.members)-1)
	for _, o := range h.members {
		if o != m {
			others = append(others, o)
		}
	}
	slices.SortFunc(others, func(a, b *member) int { return a.id - b.id })
	entries := make([]string, 0, len(others))
	for _, o := range others {
		entries = append(entries, h.entry(o))
	}
	if h.opt.Others != nil {
		entries = append(entries, h.opt.Others()...)
	}
	for i, e := range entries {
		if i == maxListed {
			p = fmt.Appendf(p, " and %d more", len(entries)-maxListed)
			break
		}
		if i > 0 {
			p = append(p, ", "...)
		}
		p = append(p, e...)
	}
	if len(entries) == 0 {
		p = append(p, "nobody"...)
	}
	return append(p, ".\n"...)
}
