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

	"github.com/sockit/sockit/address"
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
	if len(args) == 0 {
		args = []string{"sockit"}
	}
	// A personality is picked by the link's name, or by a subcommand
	// named like one ("sockit nc -l 80").
	prog, argv := filepath.Base(args[0]), args[1:]
	if prog == luaHelper {
		return runLua(argv, stderr)
	}
	if personalityOf(prog) == "" && len(argv) > 0 && personalityOf(argv[0]) != "" && argv[0] != "sockit" {
		prog, argv = argv[0], argv[1:]
		args = append([]string{prog}, argv...)
	}
	personality := personalityOf(prog)
	socat := personality == "socat"
	r := &runner{name: "sockit", stdin: stdin, stdout: stdout, stderr: stderr}
	var err error
	switch personality {
	case "socat":
		r.name = "socat"
		err = r.relay(ctx, argv, true)
	case "ncat":
		r.name = "Ncat"
		err = r.ncat(ctx, argv)
	case "openbsd", "traditional":
		r.name = prog
		return r.netcat(ctx, personality, argv)
	default:
		if len(argv) == 2 && (argv[1] == "-h" || argv[1] == "--help") && printCommandHelp(stdout, argv[0]) {
			return 0
		}
		if len(argv) > 0 && argv[0] == "relay" {
			r.name = "sockit relay"
			err = r.relay(ctx, argv[1:], false)
		} else if len(argv) > 0 && argv[0] == "bench" && (len(argv) == 1 || !isPort(argv[1])) {
			r.name = "sockit bench"
			err = r.bench(ctx, argv[1:])
		} else if len(argv) > 0 && argv[0] == "top" && (len(argv) == 1 || !isPort(argv[1])) {
			err = r.top(ctx, argv[1:]) // "sockit top 80" is still a host named top
		} else if len(argv) == 1 && argv[0] == "version" {
			printVersion(stdout) // alone: a host named "version" needs a port
		} else if len(argv) >= 1 && argv[0] == "help" && (len(argv) == 1 || !isPort(argv[1])) {
			err = printTopic(stdout, strings.Join(argv[1:], " "))
		} else if len(argv) >= 1 && argv[0] == "completion" && (len(argv) == 1 || !isPort(argv[1])) {
			err = printCompletion(stdout, argv[1:])
		} else if len(argv) >= 1 && argv[0] == "man" && (len(argv) == 1 || !isPort(argv[1])) {
			err = writeManPages(argv[1:])
		} else if len(argv) > 0 && argv[0] == "install-links" {
			err = r.installLinks(argv[1:])
		} else {
			err = hintCommand(r.ncat(ctx, argv), argv)
		}
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
			hint := ""
			if ge.unknown != "" && r.name == "sockit" {
				hint = suggestion(ge.unknown, newCompletionWords().flags)
			}
			r.errorf("%s%s; try '%s --help'. QUITTING.", capitalize(ge.msg), hint, r.name)
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

// hintCommand adds "did you mean 'sockit relay'?" to the error of a
// command line whose first word, taken for a host, is one typo away from
// a command: only when the line failed, and only then.
func hintCommand(err error, argv []string) error {
	if err == nil || errors.Is(err, errHelp) || len(argv) == 0 || strings.HasPrefix(argv[0], "-") {
		return err
	}
	var words []string
	for _, c := range subcommands {
		words = append(words, strings.Split(c.name, ", ")...)
	}
	h := address.Suggest(argv[0], words)
	if h == "" {
		return err
	}
	hint := " (did you mean 'sockit " + strings.TrimSuffix(strings.TrimPrefix(h, "did you mean "), "?") + "'?)"
	var ue *usageError
	if errors.As(err, &ue) {
		c := *ue
		c.msg += hint
		return &c
	}
	return fmt.Errorf("%w%s", err, hint)
}

// personalityOf names the personality a program name asks for: "ncat",
// "socat", "openbsd" (nc, netcat, nc.openbsd) or "traditional"
// (nc.traditional), or "" for sockit's own.
func personalityOf(prog string) string {
	switch {
	case strings.HasPrefix(prog, "ncat"):
		return "ncat"
	case strings.HasPrefix(prog, "socat"):
		return "socat"
	case prog == "nc.traditional" || prog == "netcat.traditional":
		return "traditional"
	case prog == "nc" || prog == "netcat" || prog == "nc.openbsd" || prog == "netcat.openbsd":
		return "openbsd"
	}
	return ""
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
