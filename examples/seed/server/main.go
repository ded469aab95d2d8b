// Command server is the seed tutorial's server on the sockit library: it
// listens on 127.0.0.1:8001 (or the address in $SEED_ADDR), sends one
// message to its first client and prints what the client sends.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sockit/sockit"
)

func main() {
	port := os.Getenv("SEED_PORT")
	if port == "" {
		port = "8001"
	}
	ctx := context.Background()
	ln, err := sockit.Listen(ctx, "TCP-LISTEN:"+port+",bind=127.0.0.1")
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
	defer ln.Close()
	fmt.Fprintln(os.Stderr, "server: listening on", ln.Addr())
	conn, err := ln.Accept()
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
	defer conn.Close()
	conn.Write([]byte("我是来自服务端的一条数据"))
	conn.CloseWrite()
	got, _ := io.ReadAll(conn)
	fmt.Println(string(got))
}
