//go:build !linux

package endpoint

import "os"

func pollable(f *os.File) *os.File { return f }
