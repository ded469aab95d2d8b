//go:build !linux

package address

// sockopts is empty off Linux: the table's numbers are Linux's, and
// sockit sets socket options by number only there.
var sockopts = map[string]sockoptEntry{}
