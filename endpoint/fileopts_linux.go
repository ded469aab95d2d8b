package endpoint

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/address"
)

// fileOptions applies, once a file is open, socat's options that act on
// its descriptor: seek (lseek*), truncate (ftruncate*), locks (flock-*,
// f-setlk*) and ioctl-*.
func fileOptions(f *os.File, s address.Spec) error {
	for _, o := range s.Options {
		if err := fileOption(f, o); err != nil {
			return fmt.Errorf("%s: %w", o.Name, err)
		}
	}
	return nil
}

func fileOption(f *os.File, o address.Option) error {
	n, _ := strconv.ParseInt(o.Value, 10, 64) // validated by address.Parse where numeric
	switch o.Name {
	case "lseek64-set", "lseek32-set":
		_, err := f.Seek(n, io.SeekStart)
		return err
	case "lseek64-cur", "lseek32-cur":
		_, err := f.Seek(n, io.SeekCurrent)
		return err
	case "lseek64-end", "lseek32-end":
		_, err := f.Seek(n, io.SeekEnd)
		return err
	case "ftruncate64", "ftruncate32":
		return f.Truncate(n)
	case "flock-ex", "flock-ex-nb", "flock-sh", "flock-sh-nb":
		how := unix.LOCK_EX
		if strings.HasPrefix(o.Name, "flock-sh") {
			how = unix.LOCK_SH
		}
		if strings.HasSuffix(o.Name, "-nb") {
			how |= unix.LOCK_NB
		}
		return control(f, func(fd int) error { return unix.Flock(fd, how) })
	case "f-setlk-rd", "f-setlk-wr", "f-setlkw-rd", "f-setlkw-wr":
		lk := unix.Flock_t{Type: unix.F_RDLCK, Whence: io.SeekStart}
		if strings.HasSuffix(o.Name, "-wr") {
			lk.Type = unix.F_WRLCK
		}
		cmd := unix.F_SETLK
		if strings.HasPrefix(o.Name, "f-setlkw") {
			cmd = unix.F_SETLKW
		}
		return control(f, func(fd int) error { return unix.FcntlFlock(uintptr(fd), cmd, &lk) })
	case "ioctl-void", "ioctl-int", "ioctl-intp", "ioctl-bin", "ioctl-string":
		return ioctl(f, o.Name, o.Value)
	}
	if bit, ok := fsFlags[o.Name]; ok {
		return control(f, func(fd int) error { return setFSFlag(fd, bit, flagOn(o.Value)) })
	}
	return nil
}

// fsFlags are socat's fs-* options: the inode flags of chattr(1), from
// linux/fs.h.
var fsFlags = map[string]int{
	"fs-secrm": 0x1, "fs-unrm": 0x2, "fs-compr": 0x4, "fs-sync": 0x8, "fs-immutable": 0x10,
	"fs-append": 0x20, "fs-nodump": 0x40, "fs-noatime": 0x80, "fs-journal-data": 0x4000,
	"fs-notail": 0x8000, "fs-dirsync": 0x10000, "fs-topdir": 0x20000,
}

// setFSFlag sets or clears one inode flag, keeping the others.
func setFSFlag(fd, bit int, on bool) error {
	flags, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("FS_IOC_GETFLAGS: %w", err)
	}
	if on {
		flags |= bit
	} else {
		flags &^= bit
	}
	if err := unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, flags); err != nil {
		return fmt.Errorf("FS_IOC_SETFLAGS: %w", err)
	}
	return nil
}

// ioctl is socat's ioctl-void=request, ioctl-int=request:value,
// ioctl-intp=request:value, ioctl-bin=request:dalan and
// ioctl-string=request:string.
func ioctl(f *os.File, opt, v string) error {
	reqText, arg, _ := strings.Cut(v, ":")
	req, err := strconv.ParseUint(reqText, 0, 32)
	if err != nil {
		return fmt.Errorf("request %q is not a number", reqText)
	}
	return control(f, func(fd int) error {
		var a uintptr
		var keep []byte
		switch opt {
		case "ioctl-int":
			n, err := strconv.ParseInt(arg, 0, 64)
			if err != nil {
				return fmt.Errorf("value %q is not a number", arg)
			}
			a = uintptr(n)
		case "ioctl-intp":
			n, err := strconv.ParseInt(arg, 0, 32)
			if err != nil {
				return fmt.Errorf("value %q is not a number", arg)
			}
			keep = make([]byte, 4)
			*(*int32)(unsafe.Pointer(&keep[0])) = int32(n)
		case "ioctl-bin":
			b, err := address.ParseDalan(arg)
			if err != nil {
				return err
			}
			keep = b
		case "ioctl-string":
			keep = append([]byte(arg), 0)
		}
		if len(keep) > 0 {
			a = uintptr(unsafe.Pointer(&keep[0]))
		}
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), a)
		if errno != 0 {
			return errno
		}
		return nil
	})
}
