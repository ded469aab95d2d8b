package endpoint

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
)

// SetTermios applies s's terminal options (socat's TERMIOS group:
// address.TermiosFor) to the terminal f, in the order given, with one
// tcsetattr. With none asked it does nothing; f that is not a terminal
// is an error then.
func SetTermios(f *os.File, s address.Spec) error {
	var asked []address.Option
	for _, o := range s.Options {
		if _, ok := address.TermiosFor(o.Name); ok {
			asked = append(asked, o)
		}
	}
	if len(asked) == 0 {
		return nil
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var terr error
	err = rc.Control(func(fd uintptr) {
		var t *unix.Termios
		if t, terr = unix.IoctlGetTermios(int(fd), unix.TCGETS); terr != nil {
			terr = fmt.Errorf("terminal options on %s, which is not a terminal: %w", f.Name(), terr)
			return
		}
		for _, o := range asked {
			if terr = applyTermios(t, o); terr != nil {
				return
			}
		}
		terr = unix.IoctlSetTermios(int(fd), unix.TCSETS, t)
	})
	if err != nil {
		return err
	}
	return terr
}

// applyTermios changes t as the one option o asks.
func applyTermios(t *unix.Termios, o address.Option) error {
	spec, _ := address.TermiosFor(o.Name)
	n := uint64(1)
	if o.Value != "" {
		var err error
		if n, err = strconv.ParseUint(o.Value, 0, 32); err != nil {
			return fmt.Errorf("%s=%s: want a number", o.Name, o.Value)
		}
	}
	word := map[byte]*uint32{'i': &t.Iflag, 'o': &t.Oflag, 'c': &t.Cflag, 'l': &t.Lflag}[spec.Field]
	switch {
	case spec.Field == 'P':
		preset(t, o.Name)
	case spec.Field == 'C':
		if n > 255 {
			return fmt.Errorf("%s=%s: a character is 0 to 255", o.Name, o.Value)
		}
		t.Cc[spec.Bits] = uint8(n)
	case spec.Field == 'S':
		b, ok := bauds[n]
		if !ok {
			// socat takes the B constant's value itself (ispeed=13 is 9600).
			for speed, code := range bauds {
				if uint64(code) == n {
					b, n, ok = code, speed, true
					break
				}
			}
		}
		if !ok {
			return fmt.Errorf("%s=%d: not a speed the terminal has", o.Name, n)
		}
		t.Cflag = t.Cflag&^unix.CBAUD | b
		if spec.Bits == 0 {
			t.Ispeed = uint32(n)
		} else {
			t.Ospeed = uint32(n)
		}
	case spec.Kind == "BOOL":
		if n == 0 {
			*word &^= spec.Mask
		} else {
			*word |= spec.Mask
		}
	case spec.Kind == "UNSIGNED-INT": // a field: csize=3, crdly=1, tabdly=2
		v := uint32(n) * spec.Bits
		if v&^spec.Mask != 0 {
			return fmt.Errorf("%s=%d: out of range", o.Name, n)
		}
		*word = *word&^spec.Mask | v
	default: // CONST: cs8, b9600, tab3
		*word = *word&^spec.Mask | spec.Bits
	}
	return nil
}

// preset applies raw, sane, termios-cfmakeraw and termios-rawer.
func preset(t *unix.Termios, name string) {
	switch name {
	case "sane":
		t.Iflag = t.Iflag&^(unix.IGNBRK|unix.INLCR|unix.IGNCR|unix.IUCLC|unix.IXOFF|unix.IXANY) | unix.BRKINT | unix.ICRNL | unix.IMAXBEL
		t.Oflag = t.Oflag&^(unix.OLCUC|unix.OCRNL|unix.ONOCR|unix.ONLRET|unix.OFILL|unix.OFDEL) | unix.OPOST | unix.ONLCR
		t.Cflag |= unix.CREAD
		t.Lflag = t.Lflag&^(unix.ECHONL|unix.NOFLSH|unix.XCASE|unix.TOSTOP|unix.ECHOPRT) |
			unix.ISIG | unix.ICANON | unix.IEXTEN | unix.ECHO | unix.ECHOE | unix.ECHOK | unix.ECHOCTL | unix.ECHOKE
	case "termios-rawer": // socat's: every flag off but CS8 and CREAD
		t.Iflag, t.Oflag, t.Lflag = 0, 0, 0
		t.Cflag = unix.CS8 | unix.CREAD
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	default: // cfmakeraw(3); socat's raw keeps IEXTEN
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG
		if name != "raw" {
			t.Lflag &^= unix.IEXTEN
		}
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	}
}

// bauds maps speeds to their B constants.
var bauds = map[uint64]uint32{0: unix.B0, 50: unix.B50, 75: unix.B75, 110: unix.B110, 134: unix.B134, 150: unix.B150,
	200: unix.B200, 300: unix.B300, 600: unix.B600, 1200: unix.B1200, 1800: unix.B1800, 2400: unix.B2400, 4800: unix.B4800,
	9600: unix.B9600, 19200: unix.B19200, 38400: unix.B38400, 57600: unix.B57600, 115200: unix.B115200, 230400: unix.B230400,
	460800: unix.B460800, 500000: unix.B500000, 576000: unix.B576000, 921600: unix.B921600, 1000000: unix.B1000000,
	1152000: unix.B1152000, 1500000: unix.B1500000, 2000000: unix.B2000000, 2500000: unix.B2500000, 3000000: unix.B3000000,
	3500000: unix.B3500000, 4000000: unix.B4000000}

// asksTermios reports whether s has any terminal option.
func asksTermios(s address.Spec) bool {
	for _, o := range s.Options {
		if _, ok := address.TermiosFor(o.Name); ok {
			return true
		}
	}
	return false
}
