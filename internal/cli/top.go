package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// top is `sockit top [--once] [--token TOKEN] ADDR`: the monitor's live
// sessions at ADDR as a table in the terminal, redrawn every second, or
// printed once (--once, or when stdout is not a terminal).
func (r *runner) top(ctx context.Context, argv []string) error {
	var addr, token string
	once := false
	for i := 0; i < len(argv); i++ {
		switch a := argv[i]; {
		case a == "--once":
			once = true
		case a == "--token" && i+1 < len(argv):
			i++
			token = argv[i]
		case strings.HasPrefix(a, "--token="):
			token = strings.TrimPrefix(a, "--token=")
		case strings.HasPrefix(a, "-"):
			return usagef("unknown option %s for top (it takes --once and --token TOKEN)", a)
		case addr == "":
			addr = a
		default:
			return usagef("one monitor address for top, not %q and %q", addr, a)
		}
	}
	if addr == "" {
		return usagef("which monitor? Give its address, as in: sockit top 127.0.0.1:9090")
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	if f, ok := r.stdout.(*os.File); !ok || !isTerminal(f) {
		once = true
	}
	client := &http.Client{Timeout: 5 * time.Second}
	for {
		table, err := topTable(ctx, client, addr, token)
		if err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = unwrapOp(ue.Err)
			}
			return fmt.Errorf("monitor at %s: %w", strings.TrimPrefix(addr, "http://"), err)
		}
		if !once {
			fmt.Fprint(r.stdout, "\x1b[H\x1b[2J") // home, clear
		}
		fmt.Fprint(r.stdout, table)
		if once {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// topTable fetches /api/sessions and renders it.
func topTable(ctx context.Context, client *http.Client, base, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/api/sessions", nil)
	if err != nil {
		return "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("it answers %s", resp.Status)
	}
	var v struct {
		Sessions []struct {
			UID        string  `json:"uid"`
			Orig       string  `json:"orig"`
			Resp       string  `json:"resp"`
			Local      string  `json:"local"`
			Remote     string  `json:"remote"`
			AgeSeconds float64 `json:"age_seconds"`
			OrigBytes  *int64  `json:"orig_bytes"`
			RespBytes  *int64  `json:"resp_bytes"`
			TLS        string  `json:"tls"`
			ChildPID   int     `json:"child_pid"`
		} `json:"sessions"`
		Omitted int `json:"omitted"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&v); err != nil {
		return "", fmt.Errorf("reading /api/sessions: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d sessions open at %s\n\n", len(v.Sessions)+v.Omitted, time.Now().Format("15:04:05"))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tORIGINATOR\tRESPONDER\tAGE\tFROM ORIG\tFROM RESP\tTLS\tCHILD")
	count := func(n *int64) string {
		if n == nil {
			return "open"
		}
		return fmt.Sprint(*n)
	}
	for _, s := range v.Sessions {
		orig, resp := s.Orig, s.Resp
		if orig == "" {
			orig, resp = s.Remote, s.Local
		}
		child := ""
		if s.ChildPID != 0 {
			child = fmt.Sprint(s.ChildPID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1fs\t%s\t%s\t%s\t%s\n", s.UID, orig, resp, s.AgeSeconds, count(s.OrigBytes), count(s.RespBytes), s.TLS, child)
	}
	tw.Flush()
	if v.Omitted > 0 {
		fmt.Fprintf(&b, "(%d more not listed)\n", v.Omitted)
	}
	return b.String(), nil
}
