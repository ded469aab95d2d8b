package luaexec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: a missing file and a syntax error are found before a run;
// a good script passes, and a runtime error waits for Run.
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		want       string // in the error; "" for none
	}{
		{"good", write("good.lua", `print("hi")`), ""},
		{"runtime error", write("boom.lua", `error("boom")`), ""},
		{"missing", filepath.Join(dir, "none.lua"), "cannot open " + filepath.Join(dir, "none.lua") + ": No such file"},
		{"syntax", write("syntax.lua", `print("x"`), "syntax.lua"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.path)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Check: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Check: %v, want an error with %q", err, tt.want)
			case err != nil && strings.Contains(err.Error(), "\n"):
				t.Errorf("Check: %q is more than one line", err)
			}
		})
	}
	err := Run(tests[1].path)
	if err == nil || err.Error() != tests[1].path+":1: boom" {
		t.Errorf("Run: %v, want %q", err, tests[1].path+":1: boom")
	}
}
