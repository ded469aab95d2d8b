package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// relayLog writes the relay's log lines. Under the socat name they keep
// socat's shape, which scripts grep: "2026/12/02 05:00:00[.123456] [host ]
// socat[PID] E msg", with -lp, -lu and -lh as socat reads them, to stderr,
// a file (-lf), or syslog (-ly; -lm: stderr until the transfer starts).
// sockit relay writes "sockit relay: msg".
type relayLog struct {
	mu     *sync.Mutex
	w      io.Writer
	sys    sysLog
	mixed  bool // -lm: w until started, then sys
	start  bool
	socat  bool
	prog   string
	micro  bool
	host   string // "" unless -lh
	level  int    // -d count: W at 1, N at 2, I at 3, D at 4
	closer io.Closer
}

// levels maps socat's level letters to the -d count that shows them.
var levels = map[byte]int{'F': 0, 'E': 0, 'W': 1, 'N': 2, 'I': 3, 'D': 4}

// enabled reports whether lines of this level are shown.
func (l *relayLog) enabled(level byte) bool { return l.level >= levels[level] }

// line writes one message at a level (socat's F, E, W, N, I, D).
func (l *relayLog) line(level byte, msg string) {
	if !l.enabled(level) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sys != nil && (!l.mixed || l.start) {
		l.syslog(level, fmt.Sprintf("%s[%d] %c %s", l.prog, os.Getpid(), level, msg))
		return
	}
	if !l.socat {
		fmt.Fprintf(l.w, "sockit relay: %s\n", msg)
		return
	}
	layout := "2006/01/02 15:04:05"
	if l.micro {
		layout += ".000000"
	}
	host := ""
	if l.host != "" {
		host = l.host + " "
	}
	fmt.Fprintf(l.w, "%s %s%s[%d] %c %s\n", time.Now().Format(layout), host, l.prog, os.Getpid(), level, msg)
}

func (l *relayLog) syslog(level byte, msg string) {
	switch level {
	case 'F':
		l.sys.Crit(msg) //nolint:errcheck // nowhere left to report to
	case 'E':
		l.sys.Err(msg) //nolint:errcheck
	case 'W':
		l.sys.Warning(msg) //nolint:errcheck
	case 'N':
		l.sys.Notice(msg) //nolint:errcheck
	case 'I':
		l.sys.Info(msg) //nolint:errcheck
	default:
		l.sys.Debug(msg) //nolint:errcheck
	}
}

// started marks the start of the transfer, where -lm turns to syslog.
func (l *relayLog) started() {
	l.mu.Lock()
	l.start = true
	l.mu.Unlock()
}

func (l *relayLog) Close() error {
	if l.sys != nil {
		l.sys.Close()
	}
	if l.closer != nil {
		return l.closer.Close()
	}
	return nil
}

// sysLog is the system log socat's -ly and -lm write to.
type sysLog interface {
	Crit(string) error
	Err(string) error
	Warning(string) error
	Notice(string) error
	Info(string) error
	Debug(string) error
	Close() error
}

// newRelayLog sets up the log the flags ask for.
func newRelayLog(r *runner, o *relayFlags, socat bool) (*relayLog, error) {
	l := &relayLog{mu: &r.mu, w: r.stderr, socat: socat, prog: "socat", micro: o.micro, level: o.debug}
	if o.progName != "" {
		l.prog = o.progName
	}
	if o.hostName {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("-lh: %w", err)
		}
		l.host, _, _ = strings.Cut(h, ".")
	}
	if o.logFile != "" {
		f, err := os.OpenFile(o.logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("-lf %s: %w", o.logFile, err)
		}
		l.w, l.closer = f, f
	}
	if o.syslog || o.mixed {
		w, known, err := openSyslog(strings.ToLower(o.facility), l.prog)
		if !known {
			return nil, usagef("unknown syslog facility %q", o.facility)
		}
		if err != nil {
			// No syslog daemon: socat's messages go to stderr instead.
			fmt.Fprintf(r.stderr, "%s %s[%d] W syslog: %v; logging to stderr\n",
				time.Now().Format("2006/01/02 15:04:05"), l.prog, os.Getpid(), err)
		} else {
			l.sys, l.mixed = w, o.mixed
		}
	}
	return l, nil
}
