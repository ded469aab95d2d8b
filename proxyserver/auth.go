package proxyserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sockit/sockit/internal/httpauth"
)

// nonceLife is how long a Digest nonce is honoured; an older one gets a
// fresh challenge marked stale, which clients answer without asking the
// user again.
const nonceLife = 5 * time.Minute

// maxNonces bounds the nonces whose request counts are remembered.
const maxNonces = 4096

var errStale = errors.New("stale nonce")

// authorize checks a request's Proxy-Authorization against s.Auth, in
// either scheme: Basic, or Digest with or without qop=auth.
func (s *Server) authorize(req *message) error {
	if s.Auth == "" {
		return nil
	}
	values := req.values("Proxy-Authorization")
	if len(values) == 0 {
		return refuse(http.StatusProxyAuthRequired, "no credentials")
	}
	cred, err := httpauth.ParseCredentials(values[0])
	if err != nil {
		return refuse(http.StatusProxyAuthRequired, "%v", err)
	}
	user, pass, _ := strings.Cut(s.Auth, ":")
	switch cred.Scheme {
	case "basic":
		u, p, err := httpauth.DecodeBasic(cred.Token)
		if err != nil {
			return refuse(http.StatusProxyAuthRequired, "%v", err)
		}
		if subtle.ConstantTimeCompare([]byte(u+":"+p), []byte(s.Auth)) != 1 {
			return refuse(http.StatusProxyAuthRequired, "wrong user name or password (Basic)")
		}
		return nil
	case "digest":
		return s.checkDigest(cred.Params, user, pass, req.first[0], req.first[1])
	}
	return refuse(http.StatusProxyAuthRequired, "scheme %q is neither Basic nor Digest", cred.Scheme)
}

func (s *Server) checkDigest(p map[string]string, user, pass, method, target string) error {
	if p["username"] != user || p["realm"] != s.realm() {
		return refuse(http.StatusProxyAuthRequired, "wrong user name or realm (Digest)")
	}
	if a := strings.ToUpper(p["algorithm"]); a != "" && a != "MD5" {
		return refuse(http.StatusProxyAuthRequired, "digest algorithm %q", p["algorithm"])
	}
	if p["uri"] != target && !sameOrigin(p["uri"], target) {
		return refuse(http.StatusProxyAuthRequired, "digest uri %q is not the request's %q", truncate(p["uri"]), truncate(target))
	}
	if p["qop"] != "" && (p["qop"] != "auth" || p["nc"] == "" || p["cnonce"] == "") {
		return refuse(http.StatusProxyAuthRequired, "digest qop %q without nc and cnonce", p["qop"])
	}
	want, err := httpauth.Response(p, user, pass, method, p["uri"])
	if err != nil {
		return refuse(http.StatusProxyAuthRequired, "%v", err)
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(p["response"])), []byte(want)) != 1 {
		return refuse(http.StatusProxyAuthRequired, "wrong user name or password (Digest)")
	}
	if err := s.nonces.use(p["nonce"], p["nc"], time.Now()); err != nil {
		return &statusError{code: http.StatusProxyAuthRequired, msg: err.Error(), err: err}
	}
	return nil
}

// sameOrigin accepts the origin-form path some clients put in uri for an
// absolute-form request target.
func sameOrigin(uri, target string) bool {
	_, rest, ok := strings.Cut(target, "://")
	if !ok || !strings.HasPrefix(uri, "/") {
		return false
	}
	i := strings.IndexAny(rest, "/?")
	return i >= 0 && rest[i:] == uri
}

func (s *Server) realm() string {
	if s.Realm == "" {
		return "sockit"
	}
	return s.Realm
}

// challenges returns the Proxy-Authenticate values of a 407: Basic, then
// Digest with a fresh nonce (stale=true when the client's had expired).
func (s *Server) challenges(stale bool) []string {
	digest := fmt.Sprintf(`Digest realm="%s", nonce="%s", qop="auth", algorithm=MD5`, s.realm(), s.nonces.issue(time.Now()))
	if stale {
		digest += ", stale=true"
	}
	return []string{fmt.Sprintf(`Basic realm="%s"`, s.realm()), digest}
}

// nonceBook issues Digest nonces that carry their own time and MAC, so
// that none need storing until used, and remembers the highest request
// count used with each, so that a captured answer cannot be replayed.
type nonceBook struct {
	once sync.Once
	key  [32]byte
	mu   sync.Mutex
	seen map[string]uint64
}

func (b *nonceBook) init() {
	b.once.Do(func() {
		rand.Read(b.key[:])
		b.seen = map[string]uint64{}
	})
}

func (b *nonceBook) mac(ts string) string {
	m := hmac.New(sha256.New, b.key[:])
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (b *nonceBook) issue(now time.Time) string {
	b.init()
	ts := strconv.FormatInt(now.UnixNano(), 16)
	return ts + "." + b.mac(ts)
}

// use accepts a nonce this book issued within nonceLife, with a request
// count (hex; "" for RFC 2069 answers) higher than any used before.
func (b *nonceBook) use(nonce, nc string, now time.Time) error {
	b.init()
	ts, mac, ok := strings.Cut(nonce, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(b.mac(ts))) {
		return errors.New("nonce was not issued here")
	}
	t, err := strconv.ParseInt(ts, 16, 64)
	if err != nil || now.Sub(time.Unix(0, t)) > nonceLife {
		return errStale
	}
	if nc == "" {
		return nil
	}
	n, err := strconv.ParseUint(nc, 16, 64)
	if err != nil {
		return fmt.Errorf("bad nonce count %q", nc)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if n <= b.seen[nonce] {
		return fmt.Errorf("nonce count %s used before", nc)
	}
	if len(b.seen) >= maxNonces {
		for k := range b.seen {
			if kt, err := strconv.ParseInt(strings.SplitN(k, ".", 2)[0], 16, 64); err != nil || now.Sub(time.Unix(0, kt)) > nonceLife {
				delete(b.seen, k)
			}
		}
		if len(b.seen) >= maxNonces {
			return errStale // everyone starts over rather than memory growing
		}
	}
	b.seen[nonce] = n
	return nil
}
