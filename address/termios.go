package address

import "fmt"

// Termios is one of socat's terminal options: which word of struct
// termios it changes and how.
type Termios struct {
	// Field is 'i', 'o', 'c' or 'l' for the flag words, 'C' for a control
	// character (Bits is its index), 'S' for ispeed/ospeed, 'P' for the
	// presets raw, sane, termios-cfmakeraw and termios-rawer.
	Field byte
	// Mask is the bits the option owns; Bits what it sets there. A BOOL
	// option sets Bits when on and clears them when 0; a field option
	// (csize=2) shifts its number to Bits' place.
	Mask, Bits uint32
	Kind       string // socat's type: BOOL, CONST, BYTE, UNSIGNED-INT
}

// TermiosFor returns the terminal option of this (sockit) name.
func TermiosFor(name string) (Termios, bool) {
	t, ok := termiosTable[name]
	return t, ok
}

// termiosKinds are the kinds whose terminal the options set: a PTY, a
// program on a pty, and files, descriptors and stdio that are terminals.
var termiosKinds = []Kind{PTY, Exec, System, File, Gopen, FD, Stdio, Stdin, Stdout, Stderr}

// termiosOptions are the table's entries for the option table.
func termiosOptions() map[string]optionInfo {
	out := map[string]optionInfo{}
	for name, t := range termiosTable {
		typ := flag
		switch t.Kind {
		case "BYTE", "UNSIGNED-INT":
			typ = integer
		}
		help := fmt.Sprintf("terminal option (%s)", t.Kind)
		switch name {
		case "raw":
			help = "with a terminal: raw mode, no line editing or echo"
		case "echo":
			help = "with a terminal: echo=0 turns echo off"
		}
		out[name] = optionInfo{typ, termiosKinds, help}
	}
	return out
}
