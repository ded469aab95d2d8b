// Command sockit is a socket toolkit: ncat's command line, socat's
// addresses, one binary. All logic lives in internal/cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/sockit/sockit/internal/cli"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	// SIGPIPE is received, not fatal: a write to a closed pipe (stdout or
	// stderr too) is then an EPIPE error, handled like any other, and the
	// exit status stays 1 or 2, as ncat's. Notify, not Ignore, so that
	// children start with the default disposition.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	caught := make(chan os.Signal, 1)
	go func() {
		s := <-sigs
		caught <- s
		cancel() // sessions close their sockets and children, then Main returns
	}()
	code := cli.Main(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	select {
	case s := <-caught:
		// Exit as a process killed by s would, as ncat does (130 for ^C).
		code = 128 + int(s.(syscall.Signal))
	default:
	}
	os.Exit(code)
}
