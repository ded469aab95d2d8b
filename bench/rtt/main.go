// Command rtt measures request/response latency through relays: "rtt echo
// ADDR" serves TCP echo, and "rtt ping N ADDR..." opens one connection per
// address and sends N 64-byte messages one at a time over each, taking
// the addresses in turn (100 round trips each) so that a noisy moment on
// a shared machine hits them all alike. It prints each address's
// round-trip p50 and p99 in microseconds. bench/relay.sh drives it.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rtt echo ADDR | rtt ping N ADDR...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "echo":
		err = echo(os.Args[2])
	case "ping":
		var n int
		n, err = strconv.Atoi(os.Args[2])
		if err == nil {
			err = ping(n, os.Args[3:])
		}
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtt:", err)
		os.Exit(1)
	}
}

func echo(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			io.Copy(c, c) //nolint:errcheck // an echo ends when its client does
		}()
	}
}

// turn is how many round trips one address gets before the next.
const turn = 100

func ping(n int, addrs []string) error {
	conns := make([]net.Conn, len(addrs))
	for i, a := range addrs {
		c, err := net.Dial("tcp", a)
		if err != nil {
			return err
		}
		defer c.Close()
		conns[i] = c
	}
	msg := make([]byte, 64)
	buf := make([]byte, 64)
	rtts := make([][]time.Duration, len(addrs))
	warm := n / 10 // the first tenth warms up and is not counted
	for done := 0; done < n+warm; done += turn {
		for i, c := range conns {
			for k := 0; k < turn; k++ {
				t0 := time.Now()
				if _, err := c.Write(msg); err != nil {
					return err
				}
				if _, err := io.ReadFull(c, buf); err != nil {
					return err
				}
				if done >= warm {
					rtts[i] = append(rtts[i], time.Since(t0))
				}
			}
		}
	}
	for i, r := range rtts {
		slices.Sort(r)
		us := func(q float64) float64 { return float64(r[int(q*float64(len(r)-1))].Nanoseconds()) / 1e3 }
		fmt.Printf("%s p50 %.1f us p99 %.1f us (%d round trips)\n", addrs[i], us(0.50), us(0.99), len(r))
	}
	return nil
}
