package address

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// socat returns the path of Debian's socat, or skips the test.
func socat(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("socat")
	if err != nil {
		t.Skip("socat is not installed")
	}
	return p
}

// TestLexMatchesSocat: socat's CREATE makes a file named by its parameter
// as socat read it, so the file's name shows how socat lexed the input.
// sockit must read every input the same, or refuse what socat refuses.
func TestLexMatchesSocat(t *testing.T) {
	bin := socat(t)
	inputs := []string{
		`'a:b'`, `"c,d"`, `e\,f`, `[g:h]`, `(i,j)`, `'m"n'`, `"o'p"`, `q\x41r`, `s\nt`, `u'v'w`, `"x\"y"`,
		`'z\'z'`, `a\tb`, `c\rd`, `e\af`, `g\bh`, `i\fj`, `k\vl`, `m\0n`, `[o'p,q'r]`, `[s"t"u]`, `{v!!w}`,
		`x\'y`, `"z[1"`, `A(B`, `C)D`, `E]F`, `\\G`, `'a[b'`, `[a'b]c'd]`, `{x(y}z)w}`, `"p(q"`, `'r(s'`,
		`t"u,v"w`, `a!b`, `"i'j'k"`, `'a\nb'`, `"(,)[,]{,}"`, `'echo (,)[,]{,}","([),])hugo'`, `"A\"`,
		`plain`, `[x]y`, `sp ace`, `"q:q"r`,
	}
	// socat 1.7.4.4 reads past the end of the string after an unclosed hard
	// quote or a final backslash (into its environment: "unclosedSHELL=...");
	// sockit refuses both.
	for _, in := range []string{`'unclosed`, `ends\`} {
		if sp, err := Parse("create:" + in); err == nil {
			t.Errorf("%s: sockit reads %q, want unexpected end of address", in, sp.Arg(0))
		}
	}
	for _, in := range inputs {
		dir := t.TempDir()
		cmd := exec.Command(bin, "-u", "/dev/null", "create:"+in)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		spec, perr := Parse("create:" + in)
		if err != nil {
			if perr == nil {
				t.Errorf("%s: socat refuses (%s), sockit reads %q", in, bytes.TrimSpace(out), spec.Arg(0))
			}
			continue
		}
		if perr != nil {
			t.Errorf("%s: socat reads it, sockit: %v", in, perr)
			continue
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Errorf("%s: socat made %d files", in, len(ents))
			continue
		}
		// CREATE's path may name a file in a directory ("x/y" never occurs here).
		if got, want := spec.Arg(0), ents[0].Name(); got != want {
			t.Errorf("%s: sockit reads %q, socat %q", in, got, want)
		}
	}
}

// TestSplitCommandMatchesSocat: EXEC splits its command line again; the
// words echo prints show how socat split them.
func TestSplitCommandMatchesSocat(t *testing.T) {
	bin := socat(t)
	for _, line := range []string{
		`echo (,)[,]{,}","([),])hugo`, `echo "a b"  c`, `echo 'x y'z`, `echo a\ b`, `echo [a b] {c d}`,
	} {
		out, err := exec.Command(bin, "-u", "exec:"+quote(line), "-").Output()
		if err != nil {
			t.Fatalf("socat exec:%s: %v", line, err)
		}
		words, err := SplitCommand(line)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Join(words[1:], " ")+"\n", string(out); got != want {
			t.Errorf("%s: sockit splits into %q, socat's echo printed %q", line, words, want)
		}
	}
}

// TestSocatTables: zsocat.go is what gensocat makes of this machine's
// socat, so every type, alias and option socat has is in the tables.
func TestSocatTables(t *testing.T) {
	bin := socat(t)
	v, _ := exec.Command(bin, "-V").Output()
	if !bytes.Contains(v, []byte("socat version "+socatVersion+" ")) {
		t.Skipf("the tables are socat %s's; this machine has %s", socatVersion, bytes.SplitN(v, []byte("\n"), 3)[1])
	}
	h, _ := exec.Command(bin, "-hhh").Output()
	gen := exec.Command("go", "run", "./internal/gensocat")
	gen.Stdin = bytes.NewReader(append(v, h...))
	got, err := gen.Output()
	if err != nil {
		t.Fatalf("gensocat: %v", err)
	}
	want, err := os.ReadFile(filepath.Join(".", "zsocat.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("zsocat.go differs from what gensocat makes of socat -hhh; run: (socat -V; socat -hhh) | go run ./address/internal/gensocat > address/zsocat.go")
	}
}

// TestSocatTypesCovered: each of socat's address types opens or is
// refused by name with a reason, never as unknown.
func TestSocatTypesCovered(t *testing.T) {
	for _, a := range socatAddrs {
		_, implemented := kindOf[a.name]
		_, isRefused := refused[a.name]
		if implemented == isRefused {
			t.Errorf("%s: implemented %v, refused %v: want exactly one", a.name, implemented, isRefused)
		}
	}
	for alias, to := range socatAddrAliases {
		if _, entries := lookupType(to); len(entries) == 0 {
			t.Errorf("alias %s names %s, which is not in the table", alias, to)
		}
	}
}

// TestGroupsMatchSocat: an option outside its address type's groups is
// refused by socat and by sockit alike, and one inside passes both.
func TestGroupsMatchSocat(t *testing.T) {
	bin := socat(t)
	for _, in := range []string{
		"open:/nonexistent,fork", "pipe,fork", "tcp4:127.0.0.1:1,ipv6only=0", "exec:/nonexistent,umask=022",
		"exec:/nonexistent,setsid", "stdio,ignoreeof", "udp-recv:1,fork", "tcp:127.0.0.1:1,backlog=2",
		"open:/nonexistent,o-creat=0", "stdio,reuseaddr", "create:/nonexistent/x,unlink-early",
	} {
		out, _ := exec.Command(bin, "-u", "/dev/null", in).CombinedOutput()
		socatRefuses := bytes.Contains(out, []byte("not supported with this address type"))
		l := &lexer{in: in}
		keyword, _ := l.token(":", ",", "!!")
		_, entries := lookupType(keyword)
		var opts []Option
		_, optPart, _ := strings.Cut(in, ",")
		for _, o := range strings.Split(optPart, ",") {
			n, v, _ := strings.Cut(o, "=")
			opts = append(opts, Option{n, v})
		}
		sockitRefuses := (Parser{}).checkGroups(in, entries[0], opts) != nil
		if socatRefuses != sockitRefuses {
			t.Errorf("%s: socat refuses %v (%s), sockit %v", in, socatRefuses, bytes.TrimSpace(out), sockitRefuses)
		}
	}
}

func FuzzDalan(f *testing.F) {
	for _, s := range []string{`x7f000001`, `i-1000 s5 B255`, `"Hello world!\n"`, `'a'`, `x6574683000`, `L18446744073709551615`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseDalan(s) //nolint:errcheck // must not panic; errors are fine
	})
}

func FuzzSplitCommand(f *testing.F) {
	for _, s := range []string{`echo (,)[,]{,}","([),])hugo`, `sh -c 'a b'`, `a\ b "c d"`, `'unclosed`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitCommand(s)
		if err != nil {
			return
		}
		for _, w := range words {
			if strings.IndexByte(w, 0) >= 0 {
				t.Fatalf("%q: a word holds a NUL: %q", s, w)
			}
		}
	})
}

func TestDalan(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
	}{
		{"x7f000001", []byte{0x7f, 0, 0, 1}},
		{"x6574683000", []byte("eth0\x00")},
		{`"ab\n"`, []byte("ab\n")},
		{"'c'", []byte("c")},
		{"B255 b-1", []byte{255, 255}},
	}
	for _, tt := range tests {
		got, err := ParseDalan(tt.in)
		if err != nil || !bytes.Equal(got, tt.want) {
			t.Errorf("ParseDalan(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if got, _ := ParseDalan("i1"); len(got) != 4 {
		t.Errorf("i1 is %d bytes", len(got))
	}
	for _, bad := range []string{"x7", "xzz", `"open`, "'ab'", "i99999999999"} {
		if _, err := ParseDalan(bad); err == nil {
			t.Errorf("ParseDalan(%q) accepted", bad)
		}
	}
}
