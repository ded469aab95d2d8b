package sockit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportEdges pins the data flow DESIGN.md draws: internal/cli →
// sockit → {address, endpoint, relay, ...} → {stream, tap, tlsconf}.
// endpoint never imports relay, the low rooms import none of the high
// ones, and nothing but cmd/sockit imports internal/cli.
func TestImportEdges(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{join .Imports \" \"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/sockit/sockit"
	forbidden := map[string][]string{
		"endpoint":          {"relay", "internal/cli", "hub", "scan", "proxyserver"},
		"address":           {"endpoint", "relay", "stream", "tap", "internal/cli"},
		"stream":            {"address", "endpoint", "relay", "tap", "internal/cli"},
		"tap":               {"address", "endpoint", "relay", "internal/cli"},
		"relay":             {"endpoint", "internal/cli"},
		"tlsconf":           {"address", "endpoint", "relay", "stream", "internal/cli"},
		"scan":              {"address", "endpoint", "relay", "stream", "internal/cli"},
		"proxyserver":       {"address", "endpoint", "internal/cli"},
		"hub":               {"address", "endpoint", "relay", "internal/cli"},
		"internal/luaexec":  {"address", "endpoint", "relay", "stream", "tap", "proxyserver", "internal/cli"},
		"internal/httpauth": {"address", "endpoint", "relay", "stream", "tap", "proxyserver", "internal/cli"},
		"capture":           {"address", "endpoint", "relay", "stream", "tap", "hub", "scan", "proxyserver", "events", "serve", "internal/cli"},
		"events":            {"address", "endpoint", "relay", "stream", "tap", "hub", "scan", "proxyserver", "serve", "internal/cli"},
		"serve":             {"internal/cli", "monitor"},
		"monitor":           {"address", "endpoint", "relay", "stream", "hub", "scan", "proxyserver", "serve", "capture", "internal/cli"},
		"federation":        {"address", "endpoint", "relay", "scan", "serve", "monitor", "capture", "events", "proxyserver", "internal/cli"},
		"loadgen":           {"relay", "hub", "scan", "serve", "monitor", "capture", "events", "report", "internal/cli"},
		"report":            {"address", "endpoint", "relay", "stream", "hub", "scan", "serve", "monitor", "internal/cli"},
		"":                  {"internal/cli"}, // the library face
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, imports, _ := strings.Cut(line, ":")
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, mod), "/")
		for _, imp := range strings.Fields(imports) {
			if imp == mod+"/internal/cli" && rel != "cmd/sockit" {
				t.Errorf("%s imports internal/cli; only cmd/sockit may", pkg)
			}
			for _, bad := range forbidden[rel] {
				if imp == mod+"/"+bad {
					t.Errorf("%s imports %s, against DESIGN.md's data flow", pkg, bad)
				}
			}
		}
		if _, ok := forbidden[rel]; ok {
			checked++
		}
	}
	if checked != len(forbidden) {
		t.Errorf("checked %d of %d packages; did one move?", checked, len(forbidden))
	}
}
