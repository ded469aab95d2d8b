package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sockit/sockit/endpoint"
	"github.com/sockit/sockit/relay"
	"github.com/sockit/sockit/stream"
)

// voice is how a personality reports a session's milestones on stderr:
// ncat's "Ncat: Connected to ...", OpenBSD nc's "Connection to ...
// succeeded!", netcat 1.10's "host [addr] port (svc) open". The session
// is the same for all of them.
type voice interface {
	listening(s *session, a net.Addr)
	accepted(s *session, c stream.Conn)
	connected(s *session, c stream.Conn)
	summary(s *session, st relay.Stats)
	// dialFailed turns a connect failure into the error Main prints.
	dialFailed(s *session, err error) error
}

// ncatVoice is ncat's wording, and sockit's own.
type ncatVoice struct{}

func (ncatVoice) listening(s *session, a net.Addr) { s.r.logf("Listening on %s", endpoint.Addr(a)) }
func (ncatVoice) accepted(s *session, c stream.Conn) {
	if host, port := hostPort(c.RemoteAddr()); s.o.asNcat && port != "" {
		s.r.logf("Connection from %s.", host) // ncat says it twice: the host, then host and port
	}
	s.r.logf("Connection from %s.", endpoint.Addr(c.RemoteAddr()))
}
func (ncatVoice) connected(s *session, c stream.Conn) {
	s.r.logf("Connected to %s.", endpoint.Addr(c.RemoteAddr()))
}
func (ncatVoice) summary(s *session, st relay.Stats) {
	if s.p.listen {
		return // ncat counts bytes in connect mode only
	}
	s.r.logf("%d bytes sent, %d bytes received in %.2f seconds.", st.AToB, st.BToA, st.Elapsed.Seconds())
}
func (ncatVoice) dialFailed(s *session, err error) error {
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)
	if s.o.wait > 0 && timedOut {
		if s.r.name == "Ncat" {
			return errors.New("TIMEOUT") // ncat's words, for scripts that match them
		}
		return fmt.Errorf("connect to %s: timed out after %v", s.p.shown, s.o.wait)
	}
	if se := (*endpoint.StatusError)(nil); s.r.name == "Ncat" && errors.As(err, &se) {
		return fmt.Errorf("proxy returned status code %d", se.Code) // ncat's words, capitalized when printed
	}
	if pe := (*endpoint.ProxyDialError)(nil); errors.As(err, &pe) && !timedOut {
		return fmt.Errorf("proxy connection failed: %s", capitalize(dialError(pe.Err).Error())) // ncat's words
	}
	return dialError(err)
}

// say prints one line on stderr as it is, without the program's name.
func (r *runner) say(format string, a ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.stderr, format+"\n", a...)
}

// hostPort splits a socket address into its host and port, or the path
// of a Unix socket.
func hostPort(a net.Addr) (host, port string) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.String(), strconv.Itoa(a.Port)
	case *net.UDPAddr:
		return a.IP.String(), strconv.Itoa(a.Port)
	case nil:
		return "", ""
	}
	return a.String(), ""
}

// reverseName is the name an address resolves back to ("localhost" for
// 127.0.0.1 in a stock /etc/hosts), or "" when it has none.
func reverseName(ip string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, ip)
	if err != nil || len(names) == 0 {
		return ""
	}
	return strings.TrimSuffix(names[0], ".")
}

// serviceName is the name /etc/services gives port/proto ("ssh" for
// 22/tcp), or "" when it names none.
func serviceName(port, proto string) string {
	f, err := os.Open("/etc/services")
	if err != nil {
		return ""
	}
	defer f.Close()
	want := port + "/" + proto
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if fields := strings.Fields(line); len(fields) >= 2 && fields[1] == want {
			return fields[0]
		}
	}
	return ""
}
