package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/sockit/sockit/internal/testenv"
)

// TestCompletionFromBinary: the binary's bash script loads as a user
// loads it, registers _sockit, and compgen inside it offers relay's
// address types.
func TestCompletionFromBinary(t *testing.T) {
	bash := testenv.Peer(t, "bash")
	prog := `source <("$1" completion bash) && complete -p sockit && COMP_LINE="sockit relay TCP-LIS" && COMP_POINT=${#COMP_LINE} && _sockit && printf '%s\n' "${COMPREPLY[@]}"`
	out, err := exec.Command(bash, "-c", prog, "bash", testenv.Binary(t)).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if lines[0] != "complete -F _sockit sockit" || !strings.Contains(string(out), "\nTCP-LISTEN:\n") {
		t.Errorf("got:\n%s", out)
	}
}
