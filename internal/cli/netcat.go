package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/sockit/sockit/endpoint"
)

// netcat runs the OpenBSD or the traditional netcat personality and
// returns the exit code. Both print errors as "PROG: message", show the
// usage for a bad option, and exit 1 for every failure, as theirs do.
func (r *runner) netcat(ctx context.Context, personality string, argv []string) int {
	var o *ncatOptions
	var err error
	help := fmt.Sprintf(openbsdHelp, Version)
	if personality == "traditional" {
		r.voice = traditionalVoice{}
		help = fmt.Sprintf(traditionalHelp, Version)
		o, err = parseTraditional(argv)
	} else {
		r.voice = openbsdVoice{}
		o, err = parseOpenBSD(argv)
	}
	if err == nil && o.help {
		fmt.Fprint(r.stderr, help)
		return 0
	}
	if err == nil && o.proxyUser != "" {
		// As nc, ask for -P's password when the proxy wants one, and
		// again when it refuses it.
		ctx = endpoint.WithPasswordFunc(ctx, func(user, proxy string, refused int) (string, error) {
			if refused > 0 {
				r.say("Proxy authentication failed")
			}
			host, _, _ := net.SplitHostPort(proxy)
			return readProxyPassword(user, host)
		})
	}
	var ports []string
	if err == nil && personality == "openbsd" {
		ports, err = openbsdPorts(o)
	}
	if err == nil {
		r.verbose = o.verbose
		if len(ports) > 0 {
			err = r.eachPort(ctx, o, ports)
		} else {
			err = r.run(ctx, o)
		}
	}
	var ge *getoptError
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return 0
	case ctx.Err() != nil:
		return 1
	case errors.Is(err, errReported), errors.Is(err, errNoneOpen):
		return 1
	case errors.As(err, &ge):
		if ge.msg != "" {
			r.errorf("%s", ge.msg)
		}
		if personality == "traditional" {
			fmt.Fprintf(r.stderr, "%s -h for help\n", "nc")
		} else {
			fmt.Fprint(r.stderr, openbsdUsage)
		}
		return 1
	case errors.As(err, &ue):
		r.errorf("%s", ue.msg)
		return 1
	}
	r.errorf("%s", capitalize(err.Error()))
	return 1
}

// linkNames are the links install-links makes.
var linkNames = []string{"ncat", "nc", "netcat", "socat"}

// installLinks is `sockit install-links DIR`: symbolic links named for
// each personality, to this binary. A file of that name that is not
// already a link to sockit is left alone, and the command fails.
func (r *runner) installLinks(argv []string) error {
	if len(argv) != 1 {
		return usagef("install-links wants one directory: sockit install-links DIR")
	}
	dir := argv[0]
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("install-links: %w", err)
	}
	if self, err = filepath.EvalSymlinks(self); err != nil {
		return fmt.Errorf("install-links: %w", err)
	}
	var refused []string
	for _, name := range linkNames {
		path := filepath.Join(dir, name)
		if fi, err := os.Lstat(path); err == nil {
			target, terr := filepath.EvalSymlinks(path)
			if fi.Mode()&os.ModeSymlink == 0 || terr != nil || !sameFile(target, self) {
				refused = append(refused, path)
				continue
			}
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("install-links: %w", err)
			}
		}
		if err := os.Symlink(self, path); err != nil {
			return fmt.Errorf("install-links: %w", err)
		}
		fmt.Fprintf(r.stdout, "%s -> %s\n", path, self)
	}
	if len(refused) > 0 {
		return fmt.Errorf("install-links: left alone, not links to sockit: %v", refused)
	}
	return nil
}

// sameFile reports whether two paths name one file.
func sameFile(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}
