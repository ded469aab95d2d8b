// Command client is the seed tutorial's client on the sockit library: it
// connects to 127.0.0.1:8001, prints the server's message and answers.
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
	conn, err := sockit.Dial(context.Background(), "TCP:127.0.0.1:"+port)
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
	defer conn.Close()
	conn.Write([]byte("我是来自客户端的一条数据"))
	conn.CloseWrite()
	got, _ := io.ReadAll(conn)
	fmt.Println(string(got))
}
