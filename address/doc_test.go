package address_test

import (
	"fmt"

	"github.com/sockit/sockit/address"
)

func ExampleDescribe() {
	d, _ := address.Describe("tcp-l")
	fmt.Println(d.Name, d.Usage)
	fmt.Println(d.About)
	fmt.Println(d.Aliases)
	// Output:
	// tcp-listen tcp-listen:<port>
	// listens for TCP connections; accepts one, or every one with fork
	// [inet-l inet-listen tcp-l]
}

func ExampleDescribeOption() {
	o, _ := address.DescribeOption("so-reuseaddr")
	fmt.Println(o.Name, o.Aliases, o.Value == "")
	o, _ = address.DescribeOption("sp")
	fmt.Println(o.Name+"="+o.Value, o.Aliases)
	// Output:
	// reuseaddr [reuse-addr so-reuseaddr] true
	// sourceport=PORT [sp]
}
