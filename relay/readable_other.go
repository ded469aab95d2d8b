//go:build !unix

package relay

// awaitReadable cannot wait without reading here: the caller reads.
func awaitReadable(any) error { return nil }
