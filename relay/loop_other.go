//go:build !linux

package relay

// spliceLoop has no loop engine off Linux; Join copies with goroutines.
func spliceLoop(a, b any, noShutdown bool, results chan<- result, firsts chan<- bool) (stop func(), ok bool) {
	return nil, false
}
