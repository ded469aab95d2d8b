//go:build !linux

package address

// termiosTable is empty off Linux: its bits are Linux's.
var termiosTable = map[string]Termios{}
