// Command hubload drives a broker (sockit --broker or ncat --broker) for
// bench/hub.sh:
//
//	hubload idle N ADDR SRC...   open N connections from the source
//	                             addresses in turn, print "ready N", hold
//	                             them until stdin ends; each line on stdin
//	                             makes it print "heard M": how many of the
//	                             N have received a byte so far
//	hubload fanout K SECS ADDR   K receivers and one sender writing 64 KiB
//	                             batches of 64-byte lines for SECS seconds;
//	                             prints lines delivered per second
//	hubload lines K SECS ADDR    the same with one 64-byte line per write,
//	                             each stamped with its send time; prints
//	                             lines/s and the delivery latency p50/p99
//
// ADDR may be several, comma-separated (brokers federated into one room):
// the receivers are spread over them in turn, the sender is on the first.
//
// Every loop is bounded by SECS; a broker that stops delivering ends the
// run with an error rather than a hang.
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const lineLen = 64

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: hubload idle N ADDR SRC... | hubload fanout|lines K SECS ADDR")
		os.Exit(2)
	}
	n, err := strconv.Atoi(os.Args[2])
	if err == nil {
		switch os.Args[1] {
		case "idle":
			err = idle(n, os.Args[3], os.Args[4:])
		case "fanout", "lines":
			var secs float64
			secs, err = strconv.ParseFloat(os.Args[3], 64)
			if err == nil && len(os.Args) > 4 {
				err = fanout(n, time.Duration(secs*float64(time.Second)), os.Args[4], os.Args[1] == "lines")
			}
		default:
			err = fmt.Errorf("unknown mode %q", os.Args[1])
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hubload:", err)
		os.Exit(1)
	}
}

func dialFrom(src, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && !ip.IsLoopback() {
		src = "" // a 127.0.0.x source cannot reach another host
	}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	return d.Dial("tcp", addr)
}

// idle holds n connections open and quiet.
func idle(n int, addr string, srcs []string) error {
	if len(srcs) == 0 {
		srcs = []string{""}
	}
	conns := make([]net.Conn, 0, n)
	var heard atomic.Int64
	for i := range n {
		c, err := dialFrom(srcs[i%len(srcs)], addr)
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		go func() {
			b := make([]byte, 1)
			if n, _ := c.Read(b); n > 0 {
				heard.Add(1)
				io.Copy(io.Discard, c) //nolint:errcheck // the rest is not counted
			}
		}()
	}
	fmt.Printf("ready %d\n", len(conns))
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fmt.Printf("heard %d\n", heard.Load())
	}
	for _, c := range conns {
		c.Close()
	}
	return nil
}

// fanout runs k receivers and one sender for d, then reports.
func fanout(k int, d time.Duration, addr string, stamped bool) error {
	addrs := strings.Split(addr, ",")
	recv := make([]net.Conn, k)
	for i := range recv {
		c, err := dialFrom(fmt.Sprintf("127.0.0.%d", 2+i%200), addrs[i%len(addrs)])
		if err != nil {
			return fmt.Errorf("receiver %d: %w", i, err)
		}
		recv[i] = c
		defer c.Close()
	}
	sender, err := dialFrom("127.0.1.1", addrs[0])
	if err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	defer sender.Close()

	// Every receiver must be in the room before the clock starts: send
	// one marker line at a time until each has seen one.
	var got atomic.Int64 // bytes delivered
	byAddr := make([]atomic.Int64, len(addrs))
	var seen atomic.Int64 // receivers that saw the first byte
	lat := &hist{}
	var wg sync.WaitGroup
	for i, c := range recv {
		wg.Go(func() { receive(c, &got, &byAddr[i%len(addrs)], &seen, lat, stamped) })
	}
	marker := line(nil, 0)
	for deadline := time.Now().Add(10 * time.Second); seen.Load() < int64(k); {
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d receivers joined", seen.Load(), k)
		}
		if _, err := sender.Write(marker); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	lat.reset()
	start, from := time.Now(), got.Load()
	fromAddr := make([]int64, len(addrs))
	for i := range byAddr {
		fromAddr[i] = byAddr[i].Load()
	}
	var sent int64
	batch := bytes.Repeat(marker, 64<<10/lineLen)
	one := make([]byte, lineLen)
	for time.Since(start) < d {
		if stamped {
			line(one[:0], time.Since(startOf))
			if _, err := sender.Write(one); err != nil {
				return err
			}
			sent++
			continue
		}
		if _, err := sender.Write(batch); err != nil {
			return err
		}
		sent += int64(len(batch) / lineLen)
	}
	elapsed := time.Since(start)
	delivered := got.Load() - from
	for _, c := range recv {
		c.Close()
	}
	wg.Wait()
	fmt.Printf("K=%d lines/s delivered %.0f (sent %.0f/s)", k, float64(delivered)/lineLen/elapsed.Seconds(), float64(sent)/elapsed.Seconds())
	if stamped {
		fmt.Printf(" latency p50 %dus p99 %dus", lat.quantile(0.50), lat.quantile(0.99))
	}
	if len(addrs) > 1 {
		for i, a := range addrs {
			fmt.Printf(" at %s %.0f", a, float64(byAddr[i].Load()-fromAddr[i])/lineLen/elapsed.Seconds())
		}
	}
	fmt.Println()
	return nil
}

// line appends a 64-byte line stamped with t, the time since the run's base.
func line(dst []byte, t time.Duration) []byte {
	dst = fmt.Appendf(dst, "%020d ", t.Nanoseconds())
	for len(dst) < lineLen-1 {
		dst = append(dst, 'x')
	}
	return append(dst, '\n')
}

func receive(c net.Conn, got, mine, seen *atomic.Int64, lat *hist, stamped bool) {
	first := true
	if !stamped {
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 && first {
				first = false
				seen.Add(1)
			}
			got.Add(int64(n))
			mine.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
	br := bufio.NewReaderSize(c, 64<<10)
	for {
		l, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		if first {
			first = false
			seen.Add(1)
		}
		got.Add(int64(len(l)))
		mine.Add(int64(len(l)))
		if ns, err := strconv.ParseInt(string(l[:20]), 10, 64); err == nil && ns > 0 {
			lat.add(time.Since(startOf) - time.Duration(ns))
		}
	}
}

// startOf is the process's clock base: sender and receivers share it.
var startOf = time.Now()

// hist counts latencies in microsecond buckets up to one second.
type hist struct {
	mu sync.Mutex
	n  [1_000_001]int64
}

func (h *hist) add(d time.Duration) {
	us := min(max(d.Microseconds(), 0), 1_000_000)
	h.mu.Lock()
	h.n[us]++
	h.mu.Unlock()
}

func (h *hist) reset() {
	h.mu.Lock()
	clear(h.n[:])
	h.mu.Unlock()
}

func (h *hist) quantile(q float64) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var total int64
	for _, c := range h.n {
		total += c
	}
	want := int64(q * float64(total))
	var acc int64
	for i, c := range h.n {
		acc += c
		if acc > want {
			return i
		}
	}
	return len(h.n) - 1
}
