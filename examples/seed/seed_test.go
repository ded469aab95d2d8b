// Package seed holds the seed tutorial's server and client, rewritten on
// the sockit library; this test runs them against each other.
package seed

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sockit/sockit/internal/testenv"
)

func TestSeedServerAndClient(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"server", "client"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), "./"+name).CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	port := testenv.FreePort(t, "tcp4", "127.0.0.1")
	env := append(os.Environ(), "SEED_PORT="+port)
	srv := testenv.Start(t, nil, "env", "SEED_PORT="+port, filepath.Join(dir, "server"))
	for i := 0; i < 1000 && !strings.Contains(srv.Stderr.String(), "listening"); i++ {
		exec.Command("sleep", "0.01").Run()
	}
	cli := exec.Command(filepath.Join(dir, "client"))
	cli.Env = env
	out, err := cli.Output()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if got := string(out); got != "我是来自服务端的一条数据\n" {
		t.Errorf("client printed %q", got)
	}
	srv.Wait(t)
	if got := srv.Stdout.String(); got != "我是来自客户端的一条数据\n" {
		t.Errorf("server printed %q", got)
	}
}
