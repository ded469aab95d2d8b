package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sockit/sockit/address"
)

//go:generate go run ../../cmd/sockit man ../../docs/man
//go:generate go run ../../cmd/sockit man --markdown ../../docs/addresses.md

// manDate is the date the pages carry: fixed, so that generating them
// again changes nothing unless their text does.
const manDate = "2026-12-03"

// writeManPages is sockit man DIR (the pages sockit.1, sockit-relay.1
// and one per command) and sockit man --markdown FILE (the address
// reference), made from the tables the parsers use.
func writeManPages(argv []string) error {
	switch {
	case len(argv) == 2 && argv[0] == "--markdown":
		return os.WriteFile(argv[1], []byte(addressMarkdown()), 0o644)
	case len(argv) != 1 || strings.HasPrefix(argv[0], "-"):
		return usagef("man wants a directory to write the pages to (or --markdown FILE)")
	}
	if err := os.MkdirAll(argv[0], 0o755); err != nil {
		return err
	}
	for name, page := range manPages() {
		if err := os.WriteFile(filepath.Join(argv[0], name), []byte(page), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// manPages are every page by file name.
func manPages() map[string]string {
	pages := map[string]string{"sockit.1": sockitPage(), "sockit-relay.1": relayPage(), "sockit-top.1": topPage(), "sockit-bench.1": benchPage()}
	for _, c := range subcommands {
		switch c.name {
		case "relay", "top", "bench":
			continue
		}
		if strings.Contains(c.name, ",") {
			continue // the personalities are sockit.1's
		}
		pages["sockit-"+c.name+".1"] = commandPage(c.name, c.args, c.help)
	}
	return pages
}

// roff escapes text for a man page line.
func roff(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`, "'", `\(aq`, `"`, `\(dq`).Replace(s)
}

// roffLines escapes text and wraps it into lines of at most 80 bytes,
// none starting with a control character.
func roffLines(s string) string {
	var b strings.Builder
	line := ""
	for _, word := range strings.Fields(s) {
		word = roff(word)
		if line != "" && len(line)+1+len(word) > 80 {
			b.WriteString(line + "\n")
			line = ""
		}
		switch {
		case line != "":
			line += " "
		case strings.HasPrefix(word, "."):
			word = `\&` + word // not a request
		}
		line += word
	}
	return b.String() + line
}

// page starts a man page.
func page(b *bytes.Buffer, name, title string) {
	fmt.Fprintf(b, ".TH %s 1 %s \"sockit %s\" \"User Commands\"\n", strings.ToUpper(name), manDate, Version)
	fmt.Fprintf(b, ".nh\n.SH NAME\n%s\n", roffLines(name+" - "+title))
}

func sockitPage() string {
	var b bytes.Buffer
	page(&b, "sockit", "connect, listen and relay over TCP, UDP and Unix sockets")
	b.WriteString(`.SH SYNOPSIS
.B sockit
[\fIOPTIONS\fR] \fIHOST\fR \fIPORT\fR
.br
.B sockit
[\fIOPTIONS\fR] \fB\-l\fR [\fIHOST\fR] \fIPORT\fR
.br
.B sockit relay
[\fIOPTIONS\fR] \fIADDRESS\fR \fIADDRESS\fR
.br
.B sockit
\fICOMMAND\fR ...
.SH DESCRIPTION
.B sockit
connects to and listens on TCP, UDP and Unix sockets, IPv4 and IPv6, with
ncat's command line; it runs a command per connection, speaks TLS, serves as
a broker, a chat room or a proxy, and scans ports.
.B sockit relay
joins any two addresses in socat's syntax (see
.BR sockit\-relay (1)).
Invoked as
.BR ncat ,
.BR nc ,
.B nc.traditional
or
.B socat
(links that
.B sockit install\-links
makes), it takes that tool's command line and speaks its words.
.PP
Options taking a time assume seconds; append ms, s, m or h (500ms).
Defaults marked (safer) differ from ncat's to protect the session.
.SH OPTIONS
`)
	fs := newNcatFlags(&ncatOptions{})
	for _, g := range flagGroups {
		fmt.Fprintf(&b, ".SS %s\n", roff(g.title))
		for _, entry := range g.flags {
			e := lookupEntry(fs, entry)
			fmt.Fprintf(&b, ".TP\n%s\n", manFlag(e))
			u := e.usage()
			if why, ok := safer[e.f.Name]; ok {
				u += " (safer"
				if why != "" {
					u += ": " + why
				}
				u += ")"
			}
			fmt.Fprintf(&b, "%s\n", roffLines(capitalize(u)+"."))
		}
	}
	b.WriteString(".SH COMMANDS\n")
	for _, c := range subcommands {
		fmt.Fprintf(&b, ".TP\n%s\n%s\n", strings.TrimSpace(`\fB`+roff(c.name)+`\fR `+roff(c.args)), roffLines(capitalize(c.help)+"."))
	}
	b.WriteString(".SH EXAMPLES\n")
	for _, e := range examples {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(e[0]), roffLines(capitalize(e[1])+"."))
	}
	b.WriteString(`.SH EXIT STATUS
0 when the session ended well, 1 when it failed (a refused connect, an
error in a session), 2 for bad usage; 128 plus the signal's number when a
signal ended it (130 for ^C), as ncat.
.SH SEE ALSO
.BR sockit\-relay (1),
.BR sockit\-top (1),
.BR ncat (1),
.BR socat (1),
.BR nc (1)
`)
	return b.String()
}

// manFlag is a flag's tag line: \fB\-l\fR, \fB\-\-listen\fR \fIFILE\fR.
func manFlag(e flagEntry) string {
	s := `\fB\-\-` + roff(e.f.Name) + `\fR`
	if e.f.Shorthand != "" {
		s = `\fB\-` + roff(e.f.Shorthand) + `\fR, ` + s
	}
	switch {
	case e.meta != "" && e.opt:
		s += `[=\fI` + roff(e.meta) + `\fR]`
	case e.meta != "":
		s += ` \fI` + roff(e.meta) + `\fR`
	}
	return s
}

func relayPage() string {
	var b bytes.Buffer
	page(&b, "sockit-relay", "join two addresses in socat's syntax and copy bytes both ways")
	b.WriteString(`.SH SYNOPSIS
.B sockit relay
[\fIOPTIONS\fR] \fIADDRESS\fR \fIADDRESS\fR
.SH DESCRIPTION
.B sockit relay
opens two addresses and copies bytes between them both ways, as socat does,
with socat's address syntax and options; invoked as
.B socat
it is a drop\-in. An address is
\fITYPE\fR:\fIPARAMS\fR,\fIOPTION\fR,\fIOPTION\fR=\fIVALUE\fR,...
(types and options in any case). A lone \- is STDIO, a number is FD:\fIN\fR,
a path is GOPEN:\fIPATH\fR, and \fIA\fR!!\fIB\fR reads from \fIA\fR and writes
to \fIB\fR. Quote with '...' or "..." or escape with \e inside a parameter;
.B \-\-explain
prints how an address was read.
.SH OPTIONS
`)
	for _, l := range relayOptionLines {
		f := strings.Fields(l)
		text := strings.Join(f[1:], " ")
		if strings.HasPrefix(text, "<") { // "-r <file> raw dump..."
			f[0] += " " + f[1]
			text = strings.Join(f[2:], " ")
		}
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(f[0]), roffLines(capitalize(text)+"."))
	}
	var w watchFlags
	ws := w.flagSet()
	for _, name := range []string{"json", "capture", "keylog", "monitor", "monitor-allow", "monitor-token", "monitor-allow-control"} {
		e := lookupEntry(ws, entryOf(name))
		fmt.Fprintf(&b, ".TP\n%s\n%s\n", manFlag(e), roffLines(capitalize(e.f.Usage)+"."))
	}
	b.WriteString(".SH ADDRESS TYPES\n")
	var refusedTypes []string
	for _, t := range address.Types() {
		if t.Refused != "" {
			refusedTypes = append(refusedTypes, strings.ToUpper(t.Name))
		}
	}
	for _, d := range openedTypes() {
		t := d.TypeInfo
		text := capitalize(d.About) + "."
		if len(t.Aliases) > 0 {
			text += " Also " + strings.ToUpper(strings.Join(t.Aliases, ", ")) + "."
		}
		var own []string
		for _, o := range d.Options {
			if o.Kinds != nil {
				own = append(own, o.Name)
			}
		}
		if len(own) > 0 {
			text += " Options: " + strings.Join(own, ", ") + "."
		}
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(typeHead(t.Usage)), roffLines(text))
	}
	fmt.Fprintf(&b, ".PP\n%s\n", roffLines("Not opened: "+strings.Join(refusedTypes, ", ")+" (sockit help TYPE says why)."))
	b.WriteString(".SH ADDRESS OPTIONS\n")
	for _, n := range optionDocNames() {
		d, _ := address.DescribeOption(n)
		text := capitalize(d.Help) + "."
		if len(d.Aliases) > 0 {
			text += " Also " + strings.Join(d.Aliases, ", ") + "."
		}
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(optionHead(d)), roffLines(text))
	}
	b.WriteString(".SH EXAMPLES\n")
	for _, k := range []address.Kind{address.TCPListen, address.OpenSSL, address.Exec, address.UDPListen, address.PTY} {
		fmt.Fprintf(&b, ".TP\n.B %s\n%s\n", roff(typeExamples[k]), roffLines(capitalize(about(k))+"."))
	}
	b.WriteString(`.SH EXIT STATUS
0 when both addresses ended well, 1 on any error (as socat).
.SH SEE ALSO
.BR sockit (1),
.BR socat (1)
`)
	return b.String()
}

// about is what an address kind does, from the address package's table.
func about(k address.Kind) string {
	d, _ := address.Describe(string(k))
	return d.About
}

func topPage() string {
	var b bytes.Buffer
	page(&b, "sockit-top", "the live sessions of a sockit server, in the terminal")
	b.WriteString(`.SH SYNOPSIS
.B sockit top
[\fB\-\-once\fR] [\fB\-\-token\fR \fITOKEN\fR] \fIADDR\fR
.SH DESCRIPTION
.B sockit top
reads /api/sessions from a server run with \fB\-\-monitor\fR \fIADDR\fR and
shows its open sessions as a table, redrawn every second: peer, age, bytes
each way and their rates, half\-close state, TLS and child.
.SH OPTIONS
.TP
.B \-\-once
Print the table once and exit (also when stdout is not a terminal).
.TP
\fB\-\-token\fR \fITOKEN\fR
Send "Authorization: Bearer \fITOKEN\fR", for a monitor run with
\fB\-\-monitor\-token\fR.
.SH SEE ALSO
.BR sockit (1)
`)
	return b.String()
}

func commandPage(name, args, help string) string {
	var b bytes.Buffer
	page(&b, "sockit-"+name, firstClause(help))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n.B sockit %s\n", roff(name))
	if args != "" {
		fmt.Fprintf(&b, "%s\n", roffLines(args))
	}
	fmt.Fprintf(&b, ".SH DESCRIPTION\n.B sockit %s\n%s\n", roff(name), roffLines(help+"."))
	b.WriteString(".SH SEE ALSO\n.BR sockit (1)\n")
	return b.String()
}

// addressMarkdown is docs/addresses.md: every address type and option,
// from the parser's tables.
func addressMarkdown() string {
	var b strings.Builder
	b.WriteString("# Address reference\n\nGenerated by `go generate ./internal/cli` from the tables the parser uses;\n" +
		"`sockit help TYPE` and `sockit help OPTION` print the same at the terminal.\n\n## Address types\n\n" +
		"| Address | What it does | Its own options |\n|---|---|---|\n")
	md := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;")
	for _, d := range openedTypes() {
		t := d.TypeInfo
		var own []string
		for _, o := range d.Options {
			if o.Kinds != nil {
				own = append(own, "`"+o.Name+"`")
			}
		}
		name := "`" + typeHead(t.Usage) + "`"
		if len(t.Aliases) > 0 {
			name += " (also " + strings.ToUpper(strings.Join(t.Aliases, ", ")) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, md.Replace(d.About), strings.Join(own, " "))
	}
	b.WriteString("\nNot opened:\n\n")
	for _, t := range address.Types() {
		if t.Refused != "" {
			fmt.Fprintf(&b, "- `%s`: %s\n", strings.ToUpper(t.Name), md.Replace(t.Refused))
		}
	}
	b.WriteString("\n## Address options\n\n| Option | What it does | Also |\n|---|---|---|\n")
	for _, n := range optionDocNames() {
		d, _ := address.DescribeOption(n)
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", optionHead(d), md.Replace(d.Help), strings.Join(d.Aliases, ", "))
	}
	return b.String()
}
