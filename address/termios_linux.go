package address

import "golang.org/x/sys/unix"

// termiosTable holds socat's terminal options with Linux's bits.
var termiosTable = func() map[string]Termios {
	t := map[string]Termios{}
	for f, names := range map[byte]map[string]uint32{
		'i': {"ignbrk": unix.IGNBRK, "brkint": unix.BRKINT, "ignpar": unix.IGNPAR, "parmrk": unix.PARMRK, "inpck": unix.INPCK,
			"istrip": unix.ISTRIP, "inlcr": unix.INLCR, "igncr": unix.IGNCR, "icrnl": unix.ICRNL, "iuclc": unix.IUCLC,
			"ixon": unix.IXON, "ixany": unix.IXANY, "ixoff": unix.IXOFF, "imaxbel": unix.IMAXBEL},
		'o': {"opost": unix.OPOST, "olcuc": unix.OLCUC, "onlcr": unix.ONLCR, "ocrnl": unix.OCRNL, "onocr": unix.ONOCR,
			"onlret": unix.ONLRET, "ofill": unix.OFILL, "ofdel": unix.OFDEL, "nldly": unix.NLDLY, "bsdly": unix.BSDLY,
			"vtdly": unix.VTDLY, "ffdly": unix.FFDLY},
		'c': {"cstopb": unix.CSTOPB, "cread": unix.CREAD, "parenb": unix.PARENB, "parodd": unix.PARODD, "hupcl": unix.HUPCL,
			"clocal": unix.CLOCAL, "crtscts": unix.CRTSCTS},
		'l': {"isig": unix.ISIG, "icanon": unix.ICANON, "xcase": unix.XCASE, "echo": unix.ECHO, "echoe": unix.ECHOE,
			"echok": unix.ECHOK, "echonl": unix.ECHONL, "echoctl": unix.ECHOCTL, "echoprt": unix.ECHOPRT, "echoke": unix.ECHOKE,
			"flusho": unix.FLUSHO, "noflsh": unix.NOFLSH, "tostop": unix.TOSTOP, "pendin": unix.PENDIN, "iexten": unix.IEXTEN},
	} {
		for n, bit := range names {
			t[n] = Termios{Field: f, Mask: bit, Bits: bit, Kind: "BOOL"}
		}
	}
	consts := []struct {
		field byte
		mask  uint32
		vals  map[string]uint32
	}{
		{'c', unix.CSIZE, map[string]uint32{"cs5": unix.CS5, "cs6": unix.CS6, "cs7": unix.CS7, "cs8": unix.CS8}},
		{'o', unix.NLDLY, map[string]uint32{"nl0": unix.NL0, "nl1": unix.NL1}},
		{'o', unix.CRDLY, map[string]uint32{"cr0": unix.CR0, "cr1": unix.CR1, "cr2": unix.CR2, "cr3": unix.CR3}},
		{'o', unix.TABDLY, map[string]uint32{"tab0": unix.TAB0, "tab1": unix.TAB1, "tab2": unix.TAB2, "tab3": unix.TAB3, "xtabs": unix.XTABS}},
		{'o', unix.BSDLY, map[string]uint32{"bs0": unix.BS0, "bs1": unix.BS1}},
		{'o', unix.VTDLY, map[string]uint32{"vt0": unix.VT0, "vt1": unix.VT1}},
		{'o', unix.FFDLY, map[string]uint32{"ff0": unix.FF0, "ff1": unix.FF1}},
		{'c', unix.CBAUD, map[string]uint32{"b0": unix.B0, "b50": unix.B50, "b75": unix.B75, "b110": unix.B110, "b134": unix.B134,
			"b150": unix.B150, "b200": unix.B200, "b300": unix.B300, "b600": unix.B600, "b1200": unix.B1200, "b1800": unix.B1800,
			"b2400": unix.B2400, "b4800": unix.B4800, "b9600": unix.B9600, "b19200": unix.B19200, "b38400": unix.B38400,
			"b57600": unix.B57600, "b115200": unix.B115200, "b230400": unix.B230400, "b460800": unix.B460800,
			"b500000": unix.B500000, "b576000": unix.B576000, "b921600": unix.B921600, "b1000000": unix.B1000000,
			"b1152000": unix.B1152000, "b1500000": unix.B1500000, "b2000000": unix.B2000000, "b2500000": unix.B2500000,
			"b3000000": unix.B3000000, "b3500000": unix.B3500000, "b4000000": unix.B4000000}},
	}
	for _, c := range consts {
		for n, v := range c.vals {
			t[n] = Termios{Field: c.field, Mask: c.mask, Bits: v, Kind: "CONST"}
		}
	}
	for n, shift := range map[string]struct {
		field byte
		mask  uint32
	}{"csize": {'c', unix.CSIZE}, "crdly": {'o', unix.CRDLY}, "tabdly": {'o', unix.TABDLY}} {
		t[n] = Termios{Field: shift.field, Mask: shift.mask, Bits: shift.mask & -shift.mask, Kind: "UNSIGNED-INT"}
	}
	for n, i := range map[string]uint32{"vintr": unix.VINTR, "vquit": unix.VQUIT, "verase": unix.VERASE, "vkill": unix.VKILL,
		"veof": unix.VEOF, "vtime": unix.VTIME, "vmin": unix.VMIN, "vswtc": unix.VSWTC, "vstart": unix.VSTART,
		"vstop": unix.VSTOP, "vsusp": unix.VSUSP, "veol": unix.VEOL, "vreprint": unix.VREPRINT, "vdiscard": unix.VDISCARD,
		"vwerase": unix.VWERASE, "vlnext": unix.VLNEXT, "veol2": unix.VEOL2} {
		t[n] = Termios{Field: 'C', Bits: i, Kind: "BYTE"}
	}
	t["ispeed"] = Termios{Field: 'S', Bits: 0, Kind: "UNSIGNED-INT"}
	t["ospeed"] = Termios{Field: 'S', Bits: 1, Kind: "UNSIGNED-INT"}
	for _, n := range []string{"raw", "sane", "termios-cfmakeraw", "termios-rawer"} {
		t[n] = Termios{Field: 'P', Kind: "CONST"}
	}
	return t
}()
