package cli

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sockit/sockit/internal/testenv"
)

// complete runs the bash script's _sockit on line (the cursor at its
// end) and returns what it offers.
func complete(t *testing.T, script, line string) []string {
	t.Helper()
	words := strings.Fields(line)
	if strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	prog := `source "$1"; COMP_LINE=$2; COMP_POINT=${#2}; COMP_WORDS=(${2}); COMP_CWORD=$3; _sockit; printf '%s\n' "${COMPREPLY[@]}"`
	out, err := exec.Command("bash", "-c", prog, "bash", script, line, strings.Repeat("x", len(words)-1)).Output()
	if err != nil {
		t.Fatalf("complete %q: %v", line, err)
	}
	return strings.Fields(string(out))
}

// TestCompletionBash: the bash script registers itself, and completes
// flags, commands, address types after relay, options after a comma
// (handing back what follows bash's last ':' or '='), and help topics.
func TestCompletionBash(t *testing.T) {
	bash := testenv.Peer(t, "bash")
	var script bytes.Buffer
	if err := printCompletion(&script, []string{"bash"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "sockit.bash")
	os.WriteFile(path, script.Bytes(), 0o644)
	out, err := exec.Command(bash, "-c", `source <(cat "$1"); complete -p sockit`, "bash", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "complete -F _sockit sockit" {
		t.Fatalf("complete -p sockit: %v: %s", err, out)
	}
	tests := []struct {
		line string
		want []string // among the offers
		not  []string // not among them
	}{
		{"sockit --lis", []string{"--listen"}, []string{"--udp"}},
		{"sockit --ssl-", []string{"--ssl-cert", "--ssl-verify", "--ssl-insecure"}, []string{"--ssl"}},
		{"sockit rel", []string{"relay"}, nil},
		{"sockit -", []string{"-l", "--keep-open", "--json"}, nil},
		{"sockit relay TCP-LIS", []string{"TCP-LISTEN:"}, []string{"TCP:"}},
		{"sockit relay tcp4-l", []string{"TCP4-LISTEN:", "TCP4-L:"}, nil},
		{"sockit relay -d STD", []string{"STDIO", "STDIN", "STDOUT", "STDERR"}, nil},
		{"sockit relay TCP-LISTEN:8080,fo", []string{"8080,fork"}, nil},
		{"sockit relay - OPENSSL:example.com:443,verify=0,c", []string{"0,cafile", "0,cert"}, nil},
		{"sockit relay -", []string{"-d", "-u", "--json", "--explain"}, []string{"--listen"}},
		{"sockit help tcp-li", []string{"tcp-listen"}, nil},
		{"sockit completion ", []string{"bash", "zsh", "fish"}, nil},
		{"sockit -l -k --ssl", []string{"--ssl", "--ssl-cert"}, nil},
	}
	for _, tt := range tests {
		got := complete(t, path, tt.line)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("%q offers %q, want %q among them", tt.line, got, w)
			}
		}
		for _, w := range tt.not {
			if slices.Contains(got, w) {
				t.Errorf("%q offers %q, which it should not", tt.line, w)
			}
		}
	}
}

// TestCompletionZshFish: the other shells' scripts parse, and carry
// every flag.
func TestCompletionZshFish(t *testing.T) {
	for _, sh := range []struct{ shell, check string }{{"zsh", "-n"}, {"fish", "--no-execute"}} {
		bin := testenv.Peer(t, sh.shell)
		var script bytes.Buffer
		if err := printCompletion(&script, []string{sh.shell}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "sockit."+sh.shell)
		os.WriteFile(path, script.Bytes(), 0o644)
		if out, err := exec.Command(bin, sh.check, path).CombinedOutput(); err != nil {
			t.Errorf("%s %s: %v\n%s", sh.shell, sh.check, err, out)
		}
		for _, f := range newCompletionWords().flags {
			if strings.HasPrefix(f, "--") && !strings.Contains(script.String(), strings.TrimPrefix(f, "--")) {
				t.Errorf("%s script lacks %s", sh.shell, f)
			}
		}
	}
	if code := Main(t.Context(), []string{"sockit", "completion", "tcsh"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", code)
	}
}

// TestRelayWordsParse: every relay option the completion offers (and -h
// lists) is one parseRelay takes.
func TestRelayWordsParse(t *testing.T) {
	words := relayWords()
	for _, want := range []string{"-d", "-h", "-?", "-hhh", "-lf", "-t", "-T", "--explain", "--json", "--monitor"} {
		if !slices.Contains(words, want) {
			t.Errorf("relayWords lacks %s: %q", want, words)
		}
	}
	for _, w := range words {
		_, err := parseRelay([]string{w, "1", "-", "-"})
		var uo *unknownOption
		if errors.As(err, &uo) {
			t.Errorf("parseRelay does not take %s, which the completion offers", w)
		}
	}
}
