package cli

import "os"

// isTerminal reports whether f is a console.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// noEcho cannot turn a console's echo off without the console API; nil.
func noEcho(*os.File) func() { return nil }
