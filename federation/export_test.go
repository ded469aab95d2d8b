package federation

// Kill leaves the bus as a killed broker does: no goodbye, the heartbeat
// just stops.
func (r *Room) Kill() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	close(r.done)
	r.wg.Wait()
	r.nc.Close()
}
