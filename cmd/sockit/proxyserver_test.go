package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sockit/sockit/internal/testenv"
)

// TestProxyServerWithCurl: sockit -l --proxy-type http and socks5 serve
// Debian's curl: plain GET, CONNECT, SOCKS5 with the name resolved by the
// proxy, and credentials required with --proxy-auth.
func TestProxyServerWithCurl(t *testing.T) {
	curl := testenv.Peer(t, "curl")
	sockit := testenv.Binary(t)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "origin saw %s %s", r.Method, r.URL.Path)
		if len(body) > 0 {
			fmt.Fprintf(w, " %v %q", r.TransferEncoding, body)
		}
	}))
	defer origin.Close()
	_, originPort, _ := strings.Cut(strings.TrimPrefix(origin.URL, "http://"), ":")

	httpPort := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, sockit, "-v", "-l", "--proxy-type", "http", "127.0.0.1", httpPort).WaitListening(t)
	authPort := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, sockit, "-v", "-l", "--proxy-type", "http", "--proxy-auth", "bob:pw", "127.0.0.1", authPort).WaitListening(t)
	socksPort := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, sockit, "-v", "-l", "--proxy-type", "socks5", "127.0.0.1", socksPort).WaitListening(t)
	socksAuth := testenv.FreePort(t, "tcp4", "127.0.0.1")
	testenv.Start(t, nil, sockit, "-v", "-l", "--proxy-type", "socks5", "--proxy-auth", "bob:pw", "127.0.0.1", socksAuth).WaitListening(t)

	url := "http://127.0.0.1:" + originPort + "/path"
	uploadBody := strings.Repeat("chunk of an upload\n", 4000)
	upload := filepath.Join(t.TempDir(), "upload")
	if err := os.WriteFile(upload, []byte(uploadBody), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // body, or the HTTP status curl reports, or "fail"
	}{
		{"http get", []string{"-x", "http://127.0.0.1:" + httpPort, url}, "origin saw GET /path"},
		{"http connect", []string{"-p", "-x", "http://127.0.0.1:" + httpPort, url}, "origin saw GET /path"},
		{"http auth missing", []string{"-o", "/dev/null", "-w", "%{http_code}", "-x", "http://127.0.0.1:" + authPort, url}, "407"},
		{"http auth given", []string{"-x", "http://bob:pw@127.0.0.1:" + authPort, url}, "origin saw GET /path"},
		{"http basic", []string{"--proxy-basic", "-U", "bob:pw", "-x", "http://127.0.0.1:" + authPort, url}, "origin saw GET /path"},
		{"http digest", []string{"--proxy-digest", "-U", "bob:pw", "-x", "http://127.0.0.1:" + authPort, url}, "origin saw GET /path"},
		{"http digest connect", []string{"-p", "--proxy-digest", "-U", "bob:pw", "-x", "http://127.0.0.1:" + authPort, url}, "origin saw GET /path"},
		{"http digest wrong", []string{"-o", "/dev/null", "-w", "%{http_code}", "--proxy-digest", "-U", "bob:guess", "-x", "http://127.0.0.1:" + authPort, url}, "407"},
		{"http anyauth", []string{"--proxy-anyauth", "-U", "bob:pw", "-x", "http://127.0.0.1:" + authPort, url}, "origin saw GET /path"},
		{"http post", []string{"-d", "a=1&b=2", "-x", "http://127.0.0.1:" + httpPort, url}, `origin saw POST /path [] "a=1&b=2"`},
		{"http post digest", []string{"--proxy-digest", "-U", "bob:pw", "-d", "x=y", "-x", "http://127.0.0.1:" + authPort, url}, `origin saw POST /path [] "x=y"`},
		{"http chunked upload", []string{"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + upload, "-x", "http://127.0.0.1:" + httpPort, url}, fmt.Sprintf(`origin saw POST /path [chunked] %q`, uploadBody)},
		{"socks5", []string{"--proxy", "socks5://127.0.0.1:" + socksPort, url}, "origin saw GET /path"},
		{"socks5 remote name", []string{"--proxy", "socks5h://127.0.0.1:" + socksPort, "http://localhost:" + originPort + "/path"}, "origin saw GET /path"},
		{"socks5 auth given", []string{"--proxy", "socks5://bob:pw@127.0.0.1:" + socksAuth, url}, "origin saw GET /path"},
		{"socks5 auth wrong", []string{"--proxy", "socks5://bob:guess@127.0.0.1:" + socksAuth, url}, "fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testenv.Start(t, nil, append([]string{curl, "-s", "--max-time", "10"}, tt.args...)...)
			code := p.Wait(t)
			got := p.Stdout.String()
			if tt.want == "fail" {
				if code == 0 {
					t.Errorf("curl succeeded: %q", got)
				}
				return
			}
			if got != tt.want {
				t.Errorf("curl exit %d, stdout %q; want %q", code, got, tt.want)
			}
		})
	}

	// sockit's own client through sockit's server.
	echo := echoServer(t, "tcp4", "127.0.0.1:0")
	_, echoPort, _ := strings.Cut(echo, ":")
	msg := "sockit through sockit\n"
	out, code := converse(t, msg, sockit, "--proxy", "127.0.0.1:"+socksAuth, "--proxy-type", "socks5", "--proxy-auth", "bob:pw", "127.0.0.1", echoPort)
	if code != 0 || out != msg {
		t.Errorf("sockit client via sockit socks5: exit %d, %q", code, out)
	}
	out, code = converse(t, msg, sockit, "--proxy", "127.0.0.1:"+authPort, "--proxy-auth", "bob:pw", "127.0.0.1", echoPort)
	if code != 0 || out != msg {
		t.Errorf("sockit client via sockit http: exit %d, %q", code, out)
	}
}
