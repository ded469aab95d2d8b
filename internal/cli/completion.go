package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/pflag"

	"github.com/sockit/sockit/address"
)

// relayWords are sockit relay's (and socat's) command-line options, for
// the completions: the heads of relayOptionLines, the lines -h prints
// ("-d[ddd]" gives -d, "-h|-?" gives -h and -?), then the watch flags.
// TestRelayWordsParse holds each to what parseRelay takes.
func relayWords() []string {
	var out []string
	for _, l := range relayOptionLines {
		head := strings.Fields(l)[0]
		if i := strings.IndexAny(head, "[<"); i > 0 {
			head = head[:i]
		}
		out = append(out, strings.Split(head, "|")...)
	}
	var wf watchFlags
	wf.flagSet().VisitAll(func(f *pflag.Flag) { out = append(out, "--"+f.Name) })
	return out
}

// completionWords are the word lists every shell's script is made of,
// from the tables the parsers use.
type completionWords struct {
	flags      []string // sockit's, long and short
	commands   []string
	relayWords []string
	types      []string // address heads: "TCP-LISTEN:", "STDIO"
	options    []string // address options
	topics     []string // sockit help's
}

func newCompletionWords() completionWords {
	var cw completionWords
	fs := newNcatFlags(&ncatOptions{})
	fs.VisitAll(func(f *pflag.Flag) {
		cw.flags = append(cw.flags, "--"+f.Name)
		if f.Shorthand != "" {
			cw.flags = append(cw.flags, "-"+f.Shorthand)
		}
	})
	sort.Strings(cw.flags)
	for _, c := range subcommands {
		cw.commands = append(cw.commands, strings.Split(c.name, ", ")...)
	}
	cw.relayWords = relayWords()
	for _, n := range address.TypeNames() {
		d, _ := address.Describe(n)
		head := strings.ToUpper(n)
		if strings.Contains(d.Usage, ":") {
			head += ":"
		}
		cw.types = append(cw.types, head)
	}
	cw.options = address.OptionNames()
	cw.topics = append([]string{"relay", "addresses", "options", "flags"}, cw.types...)
	for i, t := range cw.topics {
		cw.topics[i] = strings.ToLower(strings.TrimSuffix(t, ":"))
	}
	return cw
}

// printCompletion is sockit completion bash|zsh|fish.
func printCompletion(w io.Writer, argv []string) error {
	if len(argv) != 1 {
		return usagef("completion wants one shell: bash, zsh or fish")
	}
	cw := newCompletionWords()
	switch argv[0] {
	case "bash":
		fmt.Fprint(w, "# bash completion for sockit: source <(sockit completion bash)\n")
		cw.writeBash(w)
		fmt.Fprint(w, "complete -F _sockit sockit\n")
	case "zsh":
		fmt.Fprint(w, "#compdef sockit\n# zsh completion for sockit: source <(sockit completion zsh)\n")
		fmt.Fprint(w, "autoload -U +X bashcompinit && bashcompinit\n")
		cw.writeBash(w)
		fmt.Fprint(w, "complete -F _sockit sockit\n")
	case "fish":
		cw.writeFish(w)
	default:
		return usagef("completion: no script for %q%s; bash, zsh or fish", argv[0], suggestion(argv[0], []string{"bash", "zsh", "fish"}))
	}
	return nil
}

// writeBash writes the _sockit function. It reads the word being
// completed from COMP_LINE itself, since bash splits words at ':' and
// '=', which addresses are full of, and hands back what follows the last
// of those.
func (cw completionWords) writeBash(w io.Writer) {
	fmt.Fprintf(w, `_sockit() {
    local flags='%s'
    local commands='%s'
    local relayflags='%s'
    local types='%s'
    local options='%s'
    local topics='%s'

    local line=${COMP_LINE:0:COMP_POINT}
    local cur=${line##*[[:space:]]}
    local words=(${line})
    [[ $cur == "" ]] || unset 'words[${#words[@]}-1]'
    local sub="" w
    for w in "${words[@]:1}"; do
        case $w in -*) ;; *) sub=$w; break ;; esac
    done
    COMPREPLY=()
    case $sub in
    relay|socat)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$relayflags" -- "$cur"))
        elif [[ $cur == *,* ]]; then
            COMPREPLY=($(compgen -P "${cur%%,*}," -W "$options" -- "${cur##*,}"))
            compopt -o nospace 2>/dev/null
        elif [[ $cur != *:* ]]; then
            COMPREPLY=($(compgen -W "$types" -- "${cur^^}"))
            compopt -o nospace 2>/dev/null
        fi ;;
    help) COMPREPLY=($(compgen -W "$topics" -- "$cur")) ;;
    completion) COMPREPLY=($(compgen -W "bash zsh fish" -- "$cur")) ;;
    man|install-links) COMPREPLY=($(compgen -d -- "$cur")) ;;
    "")
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$flags" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$commands" -- "$cur"))
        fi ;;
    *) [[ $cur == -* ]] && COMPREPLY=($(compgen -W "$flags" -- "$cur")) ;;
    esac
    local broken=${cur%%"${cur##*[:=]}"}
    if [[ -n $broken ]]; then
        COMPREPLY=("${COMPREPLY[@]#"$broken"}")
    fi
}
`, strings.Join(cw.flags, " "), strings.Join(cw.commands, " "), strings.Join(cw.relayWords, " "),
		strings.Join(cw.types, " "), strings.Join(cw.options, " "), strings.Join(cw.topics, " "))
}

// writeFish writes fish's complete commands: flags with their help,
// commands, and a function that completes relay addresses.
func (cw completionWords) writeFish(w io.Writer) {
	fmt.Fprint(w, "# fish completion for sockit: sockit completion fish | source\n")
	fs := newNcatFlags(&ncatOptions{})
	fs.VisitAll(func(f *pflag.Flag) {
		line := "complete -c sockit -n '__fish_use_subcommand' -l " + f.Name
		if f.Shorthand != "" {
			line += " -s " + f.Shorthand
		}
		if f.Value.Type() != "bool" && f.Value.Type() != "count" {
			line += " -r"
		}
		fmt.Fprintf(w, "%s -d %s\n", line, fishQuote(firstClause(f.Usage)))
	})
	for _, c := range subcommands {
		for _, name := range strings.Split(c.name, ", ") {
			fmt.Fprintf(w, "complete -c sockit -n '__fish_use_subcommand' -f -a %s -d %s\n", name, fishQuote(firstClause(c.help)))
		}
	}
	fmt.Fprintf(w, "complete -c sockit -n '__fish_seen_subcommand_from completion' -f -a 'bash zsh fish'\n")
	fmt.Fprintf(w, "complete -c sockit -n '__fish_seen_subcommand_from help' -f -a %s\n", fishQuote(strings.Join(cw.topics, " ")))
	fmt.Fprintf(w, `function __sockit_address
    set -l tok (commandline -ct)
    if string match -q -- '*,*' $tok
        set -l head (string replace -r ',[^,]*$' '' -- $tok)
        for o in %s
            echo "$head,$o"
        end
    else if not string match -q -- '*:*' $tok
        printf '%%s\n' %s
    end
end
complete -c sockit -n '__fish_seen_subcommand_from relay' -f -a '(__sockit_address)'
`, strings.Join(cw.options, " "), strings.Join(cw.types, " "))
}

// firstClause is a usage string up to its first ';' or '(': enough for a
// completion menu.
func firstClause(s string) string {
	if i := strings.IndexAny(s, ";("); i > 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

// fishQuote quotes s for fish.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
