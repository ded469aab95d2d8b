package endpoint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"testing"
)

// caseLabels returns the string case labels of function fn in file.
func caseLabels(t *testing.T, file, fn string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Name.Name != fn {
			continue
		}
		ast.Inspect(fd, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, _ := strconv.Unquote(lit.Value)
						out = append(out, s)
					}
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("no case labels in %s's %s", file, fn)
	}
	sort.Strings(out)
	return out
}

// TestNumberedSockopts: the options other platforms refuse are the ones
// Linux's sockopts sets, no more and no fewer.
func TestNumberedSockopts(t *testing.T) {
	cases := caseLabels(t, "sockopt_linux.go", "sockopts")
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c] = true
		if c != "reuseaddr" && !numberedSockopts[c] {
			t.Errorf("sockopts sets %q, which numberedSockopts lacks", c)
		}
	}
	for n := range numberedSockopts {
		if !seen[n] {
			t.Errorf("numberedSockopts has %q, which sockopts does not set", n)
		}
	}
}

// TestFileOptionNames: every option fileOption applies, and every chattr
// flag, is one isFileOption names.
func TestFileOptionNames(t *testing.T) {
	names := caseLabels(t, "fileopts_linux.go", "fileOption")
	for n := range fsFlags {
		names = append(names, n)
	}
	for _, n := range names {
		if !isFileOption(n) {
			t.Errorf("fileOption applies %q, which isFileOption does not name", n)
		}
	}
}
