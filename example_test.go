package sockit_test

import (
	"context"
	"fmt"
	"io"

	"github.com/sockit/sockit"
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
