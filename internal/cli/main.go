// Package cli holds sockit's personalities: the ncat-compatible command
// line (also used when invoked as "ncat"). It turns argv into an
// address.Spec and a mode, and runs the mode on endpoint and relay.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Version is sockit's version.
const Version = "0.1.0"

// usageError is bad input on the command line, or a listener that cannot
// bind: exit code 2, as ncat. Its message is printed capitalized unless
// verbatim (ncat's "bind to ..." starts in lower case).
type usageError struct {
	msg      string
	verbatim bool
	bare     bool // no period before QUITTING (a few of ncat's lines have none)
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{msg: fmt.Sprintf(format, a...)} }

// Main runs sockit with args (args[0] picks the personality) and returns
// the exit code. It prints errors once, as one line on stderr.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	name := "sockit"
	if len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "ncat") {
		name = "Ncat"
	}
	socat := len(args) > 0 && strings.HasPrefix(filepath.Base(args[0]), "socat")
	r := &runner{name: name, stdin: stdin, stdout: stdout, stderr: stderr}
	var err error
	switch {
	case socat:
		r.name = "socat"
		err = r.relay(ctx, args[1:], true)
	case len(args) > 1 && args[1] == "relay":
		r.name = "sockit relay"
		err = r.relay(ctx, args[2:], false)
	default:
		err = r.ncat(ctx, args[1:])
	}
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		return 1 // interrupted: the caller reports how, and nothing else failed
	}
	if errors.Is(err, errHelp) {
		return 0
	}
	if errors.Is(err, errReported) {
		return 1 // the relay logged it in its own shape; socat exits 1 on any error
	}
	if errors.Is(err, errNoneOpen) {
		return 1 // a scan's answer, not a failure to report
	}
	if socat {
		// socat's shape, which scripts grep for; socat exits 1 on any error.
		fmt.Fprintf(stderr, "%s socat[%d] E %s\n", time.Now().Format("2006/01/02 15:04:05"), os.Getpid(), err)
		return 1
	}
	var ge *getoptError
	if errors.As(err, &ge) {
		if r.name == "Ncat" {
			fmt.Fprintf(stderr, "%s: %s\nNcat: Try `--help' or man(1) ncat for more information, usage options and help. QUITTING.\n", args[0], ge.msg)
		} else {
			r.errorf("%s; try --help. QUITTING.", capitalize(ge.msg))
		}
		return 2
	}
	var ue *usageError
	if errors.As(err, &ue) {
		msg := ue.msg
		if !ue.verbatim {
			msg = capitalize(msg)
		}
		if !ue.bare {
			msg += "."
		}
		r.errorf("%s QUITTING.", msg)
		return 2
	}
	r.errorf("%s.", capitalize(err.Error()))
	return 1
}

var errHelp = errors.New("help shown")

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
