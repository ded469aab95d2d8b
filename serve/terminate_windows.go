package serve

import "os"

// terminate ends a session's command: Windows has no SIGTERM to send,
// nor process groups to send it to.
func terminate(child *os.Process) {
	child.Kill() //nolint:errcheck // it may have exited
}
