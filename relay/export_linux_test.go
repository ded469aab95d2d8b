package relay

// LoopStats reports how many loops run and how many sessions they hold,
// for tests.
func LoopStats() (running, sessions int) {
	loops.mu.Lock()
	defer loops.mu.Unlock()
	for _, l := range loops.all {
		sessions += l.sessions
	}
	return len(loops.all), sessions
}
