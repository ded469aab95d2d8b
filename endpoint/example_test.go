package endpoint_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/endpoint"
)

// Listen and Dial take the same address specs as sockit relay; every
// result is a stream.Conn that can be half-closed.
func ExampleListen() {
	ctx := context.Background()
	ln, err := endpoint.Listen(ctx, address.MustParse("TCP4-LISTEN:0,bind=127.0.0.1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		question, _ := io.ReadAll(c) // until the client half-closes
		fmt.Fprintf(c, "you said %q", question)
	}()

	_, port, _ := net.SplitHostPort(ln.Addr().String())
	c, err := endpoint.Dial(ctx, address.MustParse("TCP:127.0.0.1:"+port))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.Write([]byte("hello"))
	c.CloseWrite()
	answer, _ := io.ReadAll(c)
	fmt.Println(string(answer))
	// Output: you said "hello"
}
