package hub_test

import (
	"fmt"
	"io"
	"net"

	"github.com/sockit/sockit/hub"
)

// A chat room on a loopback port: each accepted conn joins the hub, which
// reads and writes it from then on.
func Example() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	room := hub.New(hub.Options{Chat: true, FirstID: 1})
	defer room.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			room.Join(c.(*net.TCPConn), nil)
		}
	}()

	alice, _ := net.Dial("tcp", ln.Addr().String())
	defer alice.Close()
	read(alice, 2) // her own join notice
	bob, _ := net.Dial("tcp", ln.Addr().String())
	defer bob.Close()
	read(alice, 2) // bob's
	read(bob, 2)

	fmt.Fprintf(bob, "hello, alice\n")
	fmt.Print(read(alice, 1))
	// Output:
	// <user2> hello, alice
}

// read returns the next n lines from c.
func read(c net.Conn, n int) string {
	var out []byte
	b := make([]byte, 1)
	for n > 0 {
		if _, err := io.ReadFull(c, b); err != nil {
			return string(out)
		}
		out = append(out, b[0])
		if b[0] == '\n' {
			n--
		}
	}
	return string(out)
}
