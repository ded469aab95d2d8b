package endpoint

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/sockit/sockit/address"
	"github.com/sockit/sockit/stream"
	"github.com/sockit/sockit/tlsconf"
)

// tlsClient reads the client side of an OPENSSL spec's options.
func tlsClient(s address.Spec) tlsconf.Client {
	c := tlsconf.Client{
		Insecure: !verifyOn(s),
		CertFile: opt(s, "cert"),
		KeyFile:  opt(s, "key"),
		Ciphers:  opt(s, "ciphers"),
		Pins:     all(s, "pin"),
		ALPN:     all(s, "alpn"),
	}
	c.TrustFile, c.TrustDir = opt(s, "cafile"), opt(s, "openssl-capath")
	c.ServerName = opt(s, "commonname")
	if sni := opt(s, "snihost"); sni != "" && c.ServerName == "" {
		c.ServerName = sni
	}
	return c
}

func verifyOn(s address.Spec) bool {
	v, ok := s.Opt("verify")
	return !ok || v != "0"
}

func opt(s address.Spec, name string) string {
	v, _ := s.Opt(name)
	return v
}

func all(s address.Spec, name string) []string {
	var out []string
	for _, o := range s.Options {
		if o.Name == name {
			out = append(out, o.Value)
		}
	}
	return out
}

// dialTLS connects over TCP and completes a TLS handshake; the server is
// verified unless verify=0. *tls.Conn is a stream.Conn as it is.
func dialTLS(ctx context.Context, s address.Spec) (stream.Conn, error) {
	cfg, err := tlsClient(s).Config(s.Arg(0))
	if err != nil {
		return nil, err
	}
	if sni := opt(s, "snihost"); sni != "" {
		cfg.ServerName = sni // SNI only; the name checked stays commonname
	}
	if on(s, "openssl-no-sni") {
		// No SNI; verification still checks the name, through the callback.
		name := cfg.ServerName
		cfg.ServerName = ""
		if verifyOn(s) && cfg.VerifyConnection == nil && !cfg.InsecureSkipVerify {
			cfg.InsecureSkipVerify = true
			roots := cfg.RootCAs
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				opts := x509.VerifyOptions{Roots: roots, DNSName: name, Intermediates: x509.NewCertPool()}
				for _, c := range cs.PeerCertificates[1:] {
					opts.Intermediates.AddCert(c)
				}
				_, err := cs.PeerCertificates[0].Verify(opts)
				return err
			}
		}
	}
	if err := tlsVersions(cfg, s); err != nil {
		return nil, err
	}
	c, err := dialTCP(ctx, s)
	if err != nil {
		return nil, err
	}
	raw := c.(net.Conn)
	if obs := tlsObserverOf(ctx); obs != nil {
		raw, cfg.KeyLogWriter = obs.wire(raw, false), obs.KeyLog
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// tlsVersions applies openssl-min-proto-version and
// openssl-max-proto-version (TLS1.2, TLS1.3; sockit speaks no older TLS).
func tlsVersions(cfg *tls.Config, s address.Spec) error {
	for _, o := range []struct {
		name string
		to   *uint16
	}{{"openssl-min-proto-version", &cfg.MinVersion}, {"openssl-max-proto-version", &cfg.MaxVersion}} {
		v, ok := s.Opt(o.name)
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.NewReplacer("v", "", "V", "", "_", ".").Replace(v)) {
		case "TLS1.2":
			*o.to = tls.VersionTLS12
		case "TLS1.3":
			*o.to = tls.VersionTLS13
		default:
			return fmt.Errorf("%s=%s: sockit speaks TLS1.2 and TLS1.3", o.name, v)
		}
	}
	return nil
}

// TLSListener is an OPENSSL-LISTEN listener. Each accepted conn does its
// handshake on first use, so a slow client never holds up Accept.
type TLSListener struct {
	Listener
	cfg *tls.Config
	obs *TLSObserver
	// Fingerprint is the server certificate's "sha256:<hex>".
	Fingerprint string
	// Generated reports an ephemeral self-signed certificate (no cert=).
	Generated bool
}

// Accept returns the next client as a *ServerTLSConn.
func (l *TLSListener) Accept() (stream.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	raw := c.(net.Conn)
	if l.obs != nil {
		raw = l.obs.wire(raw, true)
	}
	return &ServerTLSConn{tls.Server(raw, l.cfg)}, nil
}

// ServerTLSConn is an accepted TLS client. Its handshake runs on first
// use, as a *tls.Conn's does, and also before a half-close: a server
// whose own input ends at once (stdin at EOF) completes the handshake
// and then sends close_notify, where a bare *tls.Conn refuses CloseWrite
// and the client sees the connection dropped mid-handshake.
type ServerTLSConn struct{ *tls.Conn }

// CloseWrite completes the handshake, then sends close_notify.
func (c *ServerTLSConn) CloseWrite() error {
	if err := c.Handshake(); err != nil {
		return err
	}
	return c.Conn.CloseWrite()
}

func listenTLS(ctx context.Context, s address.Spec) (Listener, error) {
	srv := tlsconf.Server{CertFile: opt(s, "cert"), KeyFile: opt(s, "key"), Ciphers: opt(s, "ciphers"), ALPN: all(s, "alpn")}
	if verifyOn(s) {
		// with a CA, clients must present a certificate
		srv.ClientCAFile, srv.ClientCADir = opt(s, "cafile"), opt(s, "openssl-capath")
	}
	cfg, fp, generated, err := srv.Config()
	if err != nil {
		return nil, err
	}
	if err := tlsVersions(cfg, s); err != nil {
		return nil, err
	}
	ln, err := listenTCP(ctx, s)
	if err != nil {
		return nil, err
	}
	obs := tlsObserverOf(ctx)
	if obs != nil {
		cfg.KeyLogWriter = obs.KeyLog
	}
	return &TLSListener{Listener: ln, cfg: cfg, obs: obs, Fingerprint: fp, Generated: generated}, nil
}

// TLSFingerprint reports the certificate of a TLS listener, looking
// through the wrappers Listen may add: its fingerprint, whether it was
// generated, and whether ln is a TLS listener at all.
func TLSFingerprint(ln Listener) (fingerprint string, generated, ok bool) {
	for {
		switch w := ln.(type) {
		case *rangeListener:
			ln = w.Listener
			continue
		case *guardListener:
			ln = w.Listener
			continue
		case *decoratingListener:
			ln = w.Listener
			continue
		case *timedListener:
			ln = w.Listener
			continue
		}
		break
	}
	t, ok := ln.(*TLSListener)
	if !ok {
		return "", false, false
	}
	return t.Fingerprint, t.Generated, true
}

// TLSObserver watches the TLS connections that Dial and Listen make under
// a context from WithTLSObserver: for a capture of the records as they
// cross the wire, and for a key log that decrypts them.
type TLSObserver struct {
	// Wire, if set, wraps each TCP connection before TLS runs over it;
	// server says it was accepted. What it returns carries the records.
	Wire func(raw net.Conn, server bool) net.Conn
	// KeyLog, if set, receives the session keys in the NSS key log
	// format (tls.Config.KeyLogWriter), as SSLKEYLOGFILE does.
	KeyLog io.Writer
}

func (o *TLSObserver) wire(c net.Conn, server bool) net.Conn {
	if o.Wire == nil {
		return c
	}
	return o.Wire(c, server)
}

type tlsObserverKey struct{}

// WithTLSObserver returns a context under which Dial and Listen tell o
// of their TLS connections.
func WithTLSObserver(ctx context.Context, o *TLSObserver) context.Context {
	return context.WithValue(ctx, tlsObserverKey{}, o)
}

func tlsObserverOf(ctx context.Context) *TLSObserver {
	o, _ := ctx.Value(tlsObserverKey{}).(*TLSObserver)
	return o
}
