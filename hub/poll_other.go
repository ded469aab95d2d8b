//go:build !linux

package hub

import "errors"

// poller is Linux's epoll set; elsewhere every client gets a reading
// goroutine, and writes go through the writer.
type poller struct{}

func newPoller(*Hub) *poller            { return nil }
func (*poller) adopt(*member)           {}
func (*poller) add(*member) error       { return errors.ErrUnsupported }
func (*poller) remove(*member)          {}
func (*poller) close()                  {}
func writeNow(int, []byte) (int, error) { return 0, errors.ErrUnsupported }
