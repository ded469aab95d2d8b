package sockit_test

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/sockit/sockit"
	"github.com/sockit/sockit/events"
	"github.com/sockit/sockit/tap"
)

// A server and a client on loopback, each sending one message and
// half-closing, as in the BSD sockets tutorial sockit began from.
func Example() {
	ctx := context.Background()
	ln, err := sockit.Listen(ctx, "TCP-LISTEN:0,bind=127.0.0.1")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write([]byte("hello from the server"))
		conn.CloseWrite()
		io.Copy(io.Discard, conn)
	}()
	c, err := sockit.Dial(ctx, "TCP:"+ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.CloseWrite()
	got, _ := io.ReadAll(c)
	fmt.Println(string(got))
	// Output: hello from the server
}

// Relay joins two endpoints: here a listener's first client and a
// program, which is what `sockit relay TCP-LISTEN:0 'EXEC:tr a-z A-Z'`
// does on the command line.
func ExampleRelay() {
	ctx := context.Background()
	ln, err := sockit.Listen(ctx, "TCP-LISTEN:0,bind=127.0.0.1")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	go func() {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		child, err := sockit.Dial(ctx, "EXEC:tr a-z A-Z")
		if err != nil {
			client.Close()
			return
		}
		sockit.Relay(ctx, client, child) // until both sides are done
	}()

	c, err := sockit.Dial(ctx, "TCP:"+ln.Addr().String())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Write([]byte("shout this"))
	c.CloseWrite() // tr sees end of input, answers and exits
	got, _ := io.ReadAll(c)
	fmt.Println(string(got))
	// Output: SHOUT THIS
}

// A mistyped address is refused before anything is opened, with the
// offending token and the nearest valid name.
func ExampleDial_typo() {
	_, err := sockit.Dial(context.Background(), "TCP:127.0.0.1:80,nodelai")
	fmt.Println(err)
	// Output: address "TCP:127.0.0.1:80,nodelai": unknown option "nodelai" (did you mean nodelay?)
}

// Forward is socat's line in one call: here a listener whose one client
// is relayed to an upstream that answers in capitals, with the events of
// the session, the first of which says where it listens.
func ExampleForward() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	upstream, err := sockit.Listen(ctx, "TCP-LISTEN:0,bind=127.0.0.1")
	if err != nil {
		panic(err)
	}
	defer upstream.Close()
	go func() {
		c, err := upstream.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		c.Write(bytes.ToUpper(b))
	}()

	listening := make(chan string, 1)
	closed := make(chan events.Event, 1)
	opt := sockit.ForwardOptions{Events: events.Func(func(e events.Event) {
		switch e.Kind {
		case events.Listening:
			listening <- e.Local
		case events.Closed:
			closed <- e
		}
	})}
	done := make(chan error, 1)
	go func() {
		done <- sockit.Forward(ctx, "TCP-LISTEN:0,bind=127.0.0.1", "TCP:"+upstream.Addr().String(), opt)
	}()

	c, err := sockit.Dial(ctx, "TCP:"+<-listening)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Write([]byte("hello through the relay"))
	c.CloseWrite()
	got, _ := io.ReadAll(c)
	fmt.Println(string(got))
	if err := <-done; err != nil { // no fork: one session, then Forward returns
		panic(err)
	}
	e := <-closed
	fmt.Printf("closed %s: %d bytes from the client, %d back\n", e.ConnState, e.OrigBytes, e.RespBytes)
	// Output:
	// HELLO THROUGH THE RELAY
	// closed SF: 23 bytes from the client, 23 back
}

// An observer that is an events.Tap sees the bytes as well: here
// socat's -r and -R dumps, each direction's bytes as they went, of a
// listener whose client talks to a command, beside an observer that
// learns where the relay listens.
func ExampleForward_tap() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	listening := make(chan string, 1)
	var toCommand, back bytes.Buffer
	opt := sockit.ForwardOptions{Events: events.Fanout{
		events.Func(func(e events.Event) {
			if e.Kind == events.Listening {
				listening <- e.Local
			}
		}),
		&tap.Raw{W: &toCommand, AToB: true},
		&tap.Raw{W: &back},
	}}
	done := make(chan error, 1)
	go func() {
		done <- sockit.Forward(ctx, "TCP-LISTEN:0,bind=127.0.0.1", "SYSTEM:tr a-z A-Z", opt)
	}()
	c, err := sockit.Dial(ctx, "TCP:"+<-listening)
	if err != nil {
		panic(err)
	}
	defer c.Close()
	c.Write([]byte("seen on the way"))
	c.CloseWrite()
	io.ReadAll(c)
	if err := <-done; err != nil {
		panic(err)
	}
	fmt.Printf("left to right %q, right to left %q\n", toCommand.String(), back.String())
	// Output:
	// left to right "seen on the way", right to left "SEEN ON THE WAY"
}
