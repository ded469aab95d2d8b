// Command rtt measures request/response latency through relays: "rtt echo
// ADDR" serves TCP echo, and "rtt ping N ADDR..." opens one connection per
// address and sends N 64-byte messages one at a time over each, taking
// the addresses in turn (100 round trips each) so that a noisy moment on
// a shared machine hits them all alike. It prints each address's
// round-trip p50 and p99 in microseconds. bench/relay.sh drives it.
// "rtt conns SECONDS C ADDR..." measures connection rate: C workers each
// connect, send one byte, read it back and close with a reset (SO_LINGER
// 0, so TIME_WAIT does not end the run), for SECONDS per address, the
// addresses taking turns a second at a time. bench/connrate.sh drives it.
package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: rtt echo ADDR | rtt ping N ADDR... | rtt conns SECONDS C ADDR...")
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
	case "conns":
		var secs, c int
		secs, err = strconv.Atoi(os.Args[2])
		if err == nil && len(os.Args) > 4 {
			c, err = strconv.Atoi(os.Args[3])
			if err == nil {
				err = conns(secs, c, os.Args[4:])
			}
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

// conns runs the connection-rate test: secs seconds per address, a second
// at a time in turn, c workers at once.
func conns(secs, c int, addrs []string) error {
	done := make([]int64, len(addrs))
	var failed atomic.Int64
	for range secs {
		for i, a := range addrs {
			var n atomic.Int64
			end := time.Now().Add(time.Second)
			var wg sync.WaitGroup
			for range c {
				wg.Go(func() {
					b := []byte{1}
					for time.Now().Before(end) {
						conn, err := net.Dial("tcp", a)
						if err != nil {
							failed.Add(1)
							continue
						}
						_, err = conn.Write(b)
						if err == nil {
							_, err = io.ReadFull(conn, b)
						}
						conn.(*net.TCPConn).SetLinger(0) //nolint:errcheck // a plain close is the fallback
						conn.Close()
						if err == nil {
							n.Add(1)
						} else {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			done[i] += n.Load()
		}
	}
	for i, a := range addrs {
		fmt.Printf("%s %.0f conn/s\n", a, float64(done[i])/float64(secs))
	}
	if f := failed.Load(); f > 0 {
		fmt.Fprintf(os.Stderr, "rtt: %d connections failed\n", f)
	}
	return nil
}
