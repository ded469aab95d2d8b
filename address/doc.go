package address

import (
	"maps"
	"slices"
	"sort"
	"strings"
)

// TypeDoc is one address type as help texts and man pages tell it, from
// the tables the parser uses.
type TypeDoc struct {
	TypeInfo
	Kind    Kind        // the kind that opens it; "" for a type sockit refuses
	Family  string      // what the name forces: "4", "6", "abstract", or ""
	About   string      // what it does, in a few words
	Options []OptionDoc // the options it takes, by name
}

// OptionDoc is one address option as help texts tell it.
type OptionDoc struct {
	Name    string   // sockit's name for it
	Aliases []string // every other name it is known by (socat's among them)
	Value   string   // what its value looks like: "" for a switch (fork, fork=0), else N, SIZE, SECONDS, ...
	Help    string
	Kinds   []Kind // the kinds that take it; nil for every one
}

// Describe documents the address type of this name (any case, any
// alias), or reports false when there is none.
func Describe(name string) (TypeDoc, bool) {
	canon, _ := lookupType(name)
	if k, ok := extensions[canon]; ok {
		return describe(TypeInfo{Name: canon, Usage: strings.ToLower(Usage(canon))}, k, ""), true
	}
	for _, t := range Types() {
		if t.Name == canon {
			k := kindOf[canon]
			return describe(t, k.kind, k.family), true
		}
	}
	return TypeDoc{}, false
}

func describe(t TypeInfo, k Kind, fam string) TypeDoc {
	d := TypeDoc{TypeInfo: t, Kind: k, Family: fam, About: about[k]}
	if t.Refused != "" {
		d.Kind, d.About = "", t.Refused
		return d
	}
	for _, n := range optionNames(k) {
		o, _ := DescribeOption(n)
		d.Options = append(d.Options, o)
	}
	return d
}

// DescribeOption documents the address option of this name (any case,
// any alias), or reports false when sockit takes no such option.
func DescribeOption(name string) (OptionDoc, bool) {
	n, _ := resolveOption(name)
	info, ok := options[n]
	if !ok {
		return OptionDoc{}, false
	}
	d := OptionDoc{Name: n, Value: valueNames[info.value], Help: info.help, Kinds: info.kinds}
	canon := canonicalOption(n)
	if canon != n {
		d.Aliases = append(d.Aliases, canon)
	}
	for a, to := range socatOptAliases {
		if to == canon && a != n {
			d.Aliases = append(d.Aliases, a)
		}
	}
	for a, to := range aliases {
		if to == n {
			d.Aliases = append(d.Aliases, a)
		}
	}
	for socatName, sockitName := range fromSocat {
		if sockitName == n && socatName != n {
			d.Aliases = append(d.Aliases, socatName)
		}
	}
	sort.Strings(d.Aliases)
	d.Aliases = slices.Compact(d.Aliases)
	return d, true
}

// valueNames say what each value type looks like, for help texts.
var valueNames = map[valueType]string{
	flag: "", integer: "N", size: "SIZE", seconds: "SECONDS", text: "TEXT",
	octal: "MODE", port: "PORT", number: "N", family: "ip4|ip6",
}

// OptionNames lists every option name sockit takes, canonical names
// first-class and aliases too, sorted: what a shell completes after a
// comma.
func OptionNames() []string {
	seen := map[string]bool{}
	for n := range options {
		seen[n] = true
	}
	for a := range aliases {
		seen[a] = true
	}
	for a, to := range socatOptAliases {
		if n, _ := resolveOption(to); n != "" {
			seen[a] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// TypeNames lists every name of an address type sockit opens, aliases
// included, sorted.
func TypeNames() []string {
	var out []string
	for _, n := range socatKeywords() {
		if Supported(n) {
			out = append(out, n)
		}
	}
	return out
}
