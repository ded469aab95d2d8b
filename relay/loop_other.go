//go:build !linux

package relay

// spliceLoop has no loop engine off Linux; Join copies with goroutines.
func spliceLoop(a, b any, noShutdown bool, results func(result), firsts chan<- bool) (stop func(), closed <-chan struct{}, ok bool) {
	return nil, nil, false
}
