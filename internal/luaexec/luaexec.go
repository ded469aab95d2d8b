// Package luaexec runs ncat's --lua-exec scripts: Lua (5.1, gopher-lua's
// interpreter) with the standard libraries, whose stdin and stdout are
// the process's, so that a child started per connection reads and writes
// the connection. Writes are not buffered: what a script writes goes out
// when it writes it, also when it ends without flushing.
package luaexec

import (
	"errors"
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Check compiles the script at path without running it, so that a
// missing file or a syntax error is reported before any connection.
func Check(path string) error {
	f, err := os.Open(path)
	if err != nil {
		// Lua's own words, which ncat prints.
		why := err.Error()
		if pe, ok := err.(*os.PathError); ok {
			why = pe.Err.Error()
		}
		return fmt.Errorf("cannot open %s: %s", path, strings.ToUpper(why[:1])+why[1:])
	}
	f.Close()
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	if _, err := L.LoadFile(path); err != nil {
		return errors.New(message(err))
	}
	return nil
}

// Run runs the script at path to its end.
func Run(path string) error {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoFile(path); err != nil {
		return errors.New(message(err))
	}
	return nil
}

// message is the first line of a Lua error, without the Go stack that
// gopher-lua appends.
func message(err error) string {
	var ae *lua.ApiError
	msg := err.Error()
	if errors.As(err, &ae) {
		if ae.Object != nil {
			msg = ae.Object.String()
		} else if ae.Cause != nil {
			msg = ae.Cause.Error()
		}
	}
	msg, _, _ = strings.Cut(msg, "\nstack traceback:")
	return strings.TrimSpace(fmt.Sprint(msg))
}
