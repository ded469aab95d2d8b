package cli

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the help golden files and the man pages")

// TestHelpGroupsEveryFlag: every flag the parser takes has its place in
// sockit --help, once, and every place names a flag.
func TestHelpGroupsEveryFlag(t *testing.T) {
	fs := newNcatFlags(&ncatOptions{})
	seen := map[string]int{}
	for _, g := range flagGroups {
		for _, entry := range g.flags {
			e := lookupEntry(fs, entry)
			if e.f == nil {
				t.Errorf("group %q lists %q, which is no flag", g.title, entry)
				continue
			}
			seen[e.f.Name]++
		}
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if seen[f.Name] != 1 {
			t.Errorf("--%s is in %d help groups, want 1", f.Name, seen[f.Name])
		}
	})
	for name := range safer {
		if fs.Lookup(name) == nil {
			t.Errorf("safer marks %q, which is no flag", name)
		}
	}
}

// run runs Main and returns stdout, stderr and the exit code.
func runMain(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestHelpGolden holds each personality's and topic's help to a golden
// file (go test ./internal/cli -run TestHelpGolden -update rewrites them).
func TestHelpGolden(t *testing.T) {
	tests := []struct {
		file   string
		args   []string
		narrow bool // every line fits 80 columns
	}{
		{"sockit.txt", []string{"sockit", "--help"}, true},
		{"ncat.txt", []string{"ncat", "--help"}, true},
		{"relay.txt", []string{"sockit", "relay", "-h"}, false}, // socat's layout, with its long lines
		{"socat.txt", []string{"socat", "-h"}, false},
		{"help-relay.txt", []string{"sockit", "help", "relay"}, false},
		{"help-tcp-listen.txt", []string{"sockit", "help", "tcp-listen"}, true},
		{"relay-help-openssl.txt", []string{"sockit", "relay", "--help", "OPENSSL"}, true},
		{"help-fork.txt", []string{"sockit", "help", "fork"}, true},
		{"help-sctp-listen.txt", []string{"sockit", "help", "sctp-listen"}, true},
		{"top.txt", []string{"sockit", "top", "--help"}, true},
		{"bench.txt", []string{"sockit", "bench", "--help"}, true},
		{"completion.txt", []string{"sockit", "completion", "-h"}, true},
		{"install-links.txt", []string{"sockit", "install-links", "--help"}, true},
		{"man.txt", []string{"sockit", "man", "--help"}, true},
		{"version.txt", []string{"sockit", "version", "--help"}, true},
		{"help.txt", []string{"sockit", "help", "--help"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, errOut, code := runMain(tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("%v: exit %d, stderr %q", tt.args, code, errOut)
			}
			golden := filepath.Join("testdata", "help", tt.file)
			if *update {
				os.MkdirAll(filepath.Dir(golden), 0o755)
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out != string(want) {
				t.Errorf("%v differs from %s (-update rewrites it):\n%s", tt.args, golden, out)
			}
			if tt.narrow {
				for i, l := range strings.Split(out, "\n") {
					if len(l) > 80 {
						t.Errorf("line %d is %d columns wide: %q", i+1, len(l), l)
					}
				}
			}
			if strings.Contains(out, "[=true|false]") {
				t.Errorf("%v shows pflag's [=true|false]", tt.args)
			}
		})
	}
}

// TestNetcatHelpGolden holds the nc personalities' -h (on stderr, exit
// 0, as theirs) to golden files.
func TestNetcatHelpGolden(t *testing.T) {
	for _, tt := range []struct{ file, prog string }{{"nc.txt", "nc"}, {"nc.traditional.txt", "nc.traditional"}} {
		out, errOut, code := runMain(tt.prog, "-h")
		if code != 0 || out != "" {
			t.Fatalf("%s -h: exit %d, stdout %q", tt.prog, code, out)
		}
		golden := filepath.Join("testdata", "help", tt.file)
		if *update {
			os.WriteFile(golden, []byte(errOut), 0o644)
		}
		if want, _ := os.ReadFile(golden); errOut != string(want) {
			t.Errorf("%s -h differs from %s (-update rewrites it):\n%s", tt.prog, golden, errOut)
		}
	}
}

// TestHelpTopicErrors: a topic that is none names itself, suggests the
// nearest, and exits 2.
func TestHelpTopicErrors(t *testing.T) {
	_, errOut, code := runMain("sockit", "help", "tcp-lisen")
	if code != 2 || !strings.Contains(errOut, `"tcp-lisen"`) || !strings.Contains(errOut, "did you mean tcp-listen?") ||
		!strings.Contains(errOut, "sockit help") || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// TestNcatHelpMatchesNcat: under the ncat link, each of ncat's lines is
// the real ncat's, word for word, and in its order.
func TestNcatHelpMatchesNcat(t *testing.T) {
	out, err := exec.Command(testenv.Peer(t, "ncat"), "--help").Output()
	if err != nil {
		t.Fatal(err)
	}
	theirs := strings.Split(string(out), "\n")
	at := 0
	for _, l := range ncatHelpLines {
		i := indexFrom(theirs, l.line, at)
		if i < 0 {
			t.Errorf("ncat --help has no line %q after line %d", l.line, at)
			continue
		}
		at = i
	}
	ours, _, _ := runMain("ncat", "--help")
	for _, l := range []string{theirs[1], theirs[3], theirs[4], "See the ncat(1) manpage for full options, descriptions and usage examples"} {
		if !strings.Contains(ours, l+"\n") {
			t.Errorf("our ncat --help lacks ncat's line %q", l)
		}
	}
}

func indexFrom(lines []string, s string, from int) int {
	for i := from; i < len(lines); i++ {
		if lines[i] == s {
			return i
		}
	}
	return -1
}

// shellWords splits a command line as sh does.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	out, err := exec.Command("sh", "-c", `for a in `+line+`; do printf '%s\0' "$a"; done`).Output()
	if err != nil {
		t.Fatalf("sh: %q: %v", line, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
}

// TestHelpExamplesParse: every example the help and the man pages show
// is a command line sockit takes.
func TestHelpExamplesParse(t *testing.T) {
	lines := []string{"sockit relay TCP-LISTEN:8080,fork,reuseaddr TCP:db:5432"}
	for _, e := range examples {
		lines = append(lines, e[0])
	}
	for _, ex := range typeExamples {
		lines = append(lines, ex)
	}
	for _, d := range openedTypes() {
		lines = append(lines, exampleFor(d))
	}
	var help bytes.Buffer
	printRelayTopic(&help)
	_, exs, _ := strings.Cut(help.String(), "\nExamples:\n")
	for _, l := range strings.Split(strings.TrimSpace(exs), "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	for _, line := range lines {
		argv := shellWords(t, line)
		if argv[0] != "sockit" {
			t.Errorf("%q: not a sockit command", line)
			continue
		}
		if len(argv) > 1 && argv[1] == "relay" {
			var addrs []string
			for _, a := range argv[2:] {
				if a != "-" && strings.HasPrefix(a, "-") {
					continue
				}
				addrs = append(addrs, a)
			}
			if len(addrs) != 2 {
				t.Errorf("%q: %d addresses", line, len(addrs))
			}
			for _, a := range addrs {
				if _, err := address.Parse(a); err != nil {
					t.Errorf("%q: %v", line, err)
				}
			}
			continue
		}
		o, err := parseNcat(argv[1:])
		if err == nil && !o.zero { // a scan's ports are the scanner's to read
			_, err = buildSpec(o)
		}
		if err != nil {
			t.Errorf("%q: %v", line, err)
		}
	}
}

// TestManPages: the pages in docs/man are what sockit man writes now
// (go generate ./internal/cli rewrites them), every flag and address type
// is in them, and mandoc finds nothing to say.
func TestManPages(t *testing.T) {
	dir := filepath.Join("..", "..", "docs", "man")
	if *update {
		if err := writeManPages([]string{dir}); err != nil {
			t.Fatal(err)
		}
		if err := writeManPages([]string{"--markdown", filepath.Join("..", "..", "docs", "addresses.md")}); err != nil {
			t.Fatal(err)
		}
	}
	pages := manPages()
	for name, text := range pages {
		have, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(have) != text {
			t.Errorf("docs/man/%s is not what sockit man writes (%v); run go generate ./internal/cli", name, err)
		}
	}
	have, _ := os.ReadFile(filepath.Join("..", "..", "docs", "addresses.md"))
	if string(have) != addressMarkdown() {
		t.Errorf("docs/addresses.md is not what sockit man --markdown writes; run go generate ./internal/cli")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != len(pages) {
		t.Errorf("docs/man has %d files, sockit man writes %d", len(ents), len(pages))
	}
	fs := newNcatFlags(&ncatOptions{})
	fs.VisitAll(func(f *pflag.Flag) {
		if !strings.Contains(pages["sockit.1"], `\fB\-\-`+roff(f.Name)+`\fR`) {
			t.Errorf("sockit.1 does not tell of --%s", f.Name)
		}
	})
	for _, d := range openedTypes() {
		if !strings.Contains(pages["sockit-relay.1"], ".B "+roff(typeHead(d.Usage))+"\n") {
			t.Errorf("sockit-relay.1 does not tell of %s", d.Name)
		}
	}
	for _, n := range optionDocNames() {
		if !strings.Contains(pages["sockit-relay.1"], ".B "+roff(n)) {
			t.Errorf("sockit-relay.1 does not tell of option %s", n)
		}
	}
	for _, c := range subcommands {
		if !strings.Contains(c.name, ",") && pages["sockit-"+c.name+".1"] == "" && c.name != "relay" {
			t.Errorf("no page for sockit %s", c.name)
		}
	}
	mandoc := testenv.Peer(t, "mandoc")
	for name := range pages {
		path := filepath.Join(dir, name)
		out, err := exec.Command(mandoc, "-T", "lint", "-W", "style", path).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("mandoc -T lint %s: %v\n%s", name, err, out)
		}
		text, err := exec.Command(mandoc, "-T", "utf8", path).Output()
		if err != nil || !bytes.Contains(text, []byte("sockit")) {
			t.Errorf("mandoc -T utf8 %s: %v", name, err)
		}
	}
}

// TestErrorsSuggest: a usage error names the token, suggests the nearest
// valid one and where to look, in one line with exit 2; a first word
// one typo from a command gets the command, and only then.
func TestErrorsSuggest(t *testing.T) {
	tests := []struct {
		args []string
		want []string
		not  string
	}{
		{[]string{"sockit", "--lisen", "80"}, []string{"'--lisen'", "did you mean --listen?", "try 'sockit --help'"}, ""},
		{[]string{"sockit", "--ssl-verfy", "h", "1"}, []string{"did you mean --ssl-verify?"}, ""},
		{[]string{"sockit", "-j"}, []string{"'j'", "try 'sockit --help'"}, "did you mean"},
		{[]string{"sockit", "relay", "--jsn", "-", "-"}, []string{`"--jsn"`, "did you mean --json?", "sockit help relay"}, ""},
		{[]string{"sockit", "relay", "TCP-LITSEN:80", "-"}, []string{`"TCP-LITSEN"`, "did you mean TCP-LISTEN?"}, ""},
		{[]string{"sockit", "relya", "-", "-"}, []string{"did you mean 'sockit relay'?"}, ""},
		{[]string{"sockit", "tpo", "127.0.0.1:9090"}, []string{"did you mean 'sockit top'?"}, ""},
		{[]string{"sockit", "completion", "bsh"}, []string{`"bsh"`, "did you mean bash?"}, ""},
		{[]string{"sockit", "-n", "127.0.0.1", "x", "y"}, []string{"more than one port"}, "did you mean"},
	}
	for _, tt := range tests {
		_, errOut, code := runMain(tt.args...)
		if code != 2 || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", tt.args, code, errOut)
		}
		for _, w := range tt.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr %q lacks %q", tt.args, errOut, w)
			}
		}
		if tt.not != "" && strings.Contains(errOut, tt.not) {
			t.Errorf("%v: stderr %q has %q", tt.args, errOut, tt.not)
		}
	}
	// ncat's own words under its link: no suggestion there.
	_, errOut, _ := runMain("ncat", "--lisen", "80")
	if strings.Contains(errOut, "did you mean") || !strings.Contains(errOut, "Try `--help'") {
		t.Errorf("ncat --lisen: %q", errOut)
	}
}
