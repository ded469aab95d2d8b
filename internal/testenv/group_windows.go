package testenv

import (
	"os"
	"os/exec"
)

// ownGroup does nothing: Windows has no process groups to lead.
func ownGroup(*exec.Cmd) {}

// killGroup kills the process pid.
func killGroup(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill() //nolint:errcheck // it may be gone
	}
}
