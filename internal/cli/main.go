// Package cli holds sockit's personalities: the ncat-compatible command
// line (also used when invoked as "ncat"). It turns argv into an
// address.Spec and a mode, and runs the mode on endpoint and relay.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Version is sockit's version.
const Version = "0.1.0"

// usageError is bad input on the command line, or a listener that cannot
// bind: exit code 2, as ncat. Its message is printed capitalized unless
// verbatim (ncat's "bind to ..." starts in lower case).
type usageError struct {
	msg      string
	verbatim bool
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
	r := &runner{name: name, stdin: stdin, stdout: stdout, stderr: stderr}
	err := r.ncat(ctx, args[1:])
	if err == nil {
		return 0
	}
	if ctx.Err() != nil {
		return 1 // interrupted: the caller reports how, and nothing else failed
	}
	if errors.Is(err, errHelp) {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		msg := ue.msg
		if !ue.verbatim {
			msg = capitalize(msg)
		}
		r.errorf("%s. QUITTING.", msg)
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
