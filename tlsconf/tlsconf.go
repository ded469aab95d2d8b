// Package tlsconf builds the tls.Configs sockit uses: clients that verify
// by default (system roots plus a trust file, hostname checked) or accept a
// pinned certificate, and servers that use a given certificate or make an
// ephemeral self-signed one. Verification failures say why and print the
// flag that would trust the server.
package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Fingerprint returns "sha256:<hex>" of a DER certificate, the form
// --ssl-pin takes.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Client describes how a client checks its server.
type Client struct {
	// ServerName is the name sent as SNI and checked against the
	// certificate; "" means the host dialled.
	ServerName string
	// TrustFile is a PEM file of CA certificates trusted besides the
	// system's roots.
	TrustFile string
	// TrustDir is a directory of PEM CA certificates trusted as TrustFile's
	// (OpenSSL's CApath; hash links are read like any other file).
	TrustDir string
	// Pins are "sha256:<hex>" fingerprints: a server whose certificate
	// matches one is trusted with or without a CA; when pins are given,
	// a certificate matching none is refused even if a CA vouches for it.
	Pins []string
	// Insecure skips every check (ncat's default; sockit's --ssl-insecure).
	Insecure bool
	// CertFile and KeyFile are a client certificate for mutual TLS.
	CertFile, KeyFile string
	// ALPN lists the protocols to offer.
	ALPN []string
	// Ciphers restricts TLS 1.2 cipher suites by Go name; "" keeps Go's.
	Ciphers string
}

// VerifyError is a server certificate the client did not trust. Its
// message says why, and how to trust this certificate on purpose.
type VerifyError struct {
	Reason      error
	Fingerprint string
}

func (e *VerifyError) Error() string {
	return fmt.Sprintf("certificate verify failed: %v; the server's certificate is %s (to trust it, add --ssl-pin %s)",
		e.Reason, e.Fingerprint, e.Fingerprint)
}

func (e *VerifyError) Unwrap() error { return e.Reason }

// Config returns the tls.Config for a connection to host.
func (c Client) Config(host string) (*tls.Config, error) {
	name := c.ServerName
	if name == "" {
		name = strings.Trim(host, "[]")
	}
	cfg := &tls.Config{ServerName: name, NextProtos: c.ALPN, MinVersion: tls.VersionTLS12}
	if err := setCiphers(cfg, c.Ciphers); err != nil {
		return nil, err
	}
	if c.CertFile != "" {
		cert, err := loadPair(c.CertFile, c.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if c.Insecure {
		cfg.InsecureSkipVerify = true
		return cfg, nil
	}
	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if err := addTrust(roots, c.TrustFile, c.TrustDir); err != nil {
		return nil, err
	}
	pins := map[string]bool{}
	for _, p := range c.Pins {
		p = strings.ToLower(p)
		if !strings.HasPrefix(p, "sha256:") || len(p) != len("sha256:")+64 {
			return nil, fmt.Errorf("pin %q: want sha256: and 64 hex digits", p)
		}
		pins[p] = true
	}
	// Go's own check cannot accept a pinned self-signed certificate, so
	// sockit verifies in VerifyConnection (which Go runs in every case).
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		fp := Fingerprint(leaf.Raw)
		if len(pins) > 0 {
			if pins[fp] {
				return nil
			}
			return &VerifyError{Reason: errors.New("certificate matches no --ssl-pin"), Fingerprint: fp}
		}
		inter := x509.NewCertPool()
		for _, ic := range cs.PeerCertificates[1:] {
			inter.AddCert(ic)
		}
		_, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter})
		if err != nil {
			return &VerifyError{Reason: err, Fingerprint: fp}
		}
		return nil
	}
	return cfg, nil
}

// Server describes a TLS server.
type Server struct {
	// CertFile and KeyFile are the server's PEM certificate and key; when
	// both are empty an ephemeral self-signed certificate is made.
	CertFile, KeyFile string
	// ClientCAFile, when set, requires clients to present a certificate
	// signed by a CA in this PEM file (mutual TLS).
	ClientCAFile string
	// ClientCADir is a directory of PEM CA certificates for clients, as
	// ClientCAFile's; either one requires client certificates.
	ClientCADir string
	// ALPN lists the protocols to accept.
	ALPN []string
	// Ciphers restricts TLS 1.2 cipher suites by Go name.
	Ciphers string
}

// Config returns the server's tls.Config and its certificate's
// fingerprint; generated reports an ephemeral certificate.
func (s Server) Config() (cfg *tls.Config, fingerprint string, generated bool, err error) {
	var cert tls.Certificate
	if s.CertFile == "" && s.KeyFile == "" {
		cert, err = Ephemeral()
		generated = true
	} else {
		cert, err = loadPair(s.CertFile, s.KeyFile)
	}
	if err != nil {
		return nil, "", false, err
	}
	cfg = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: s.ALPN, MinVersion: tls.VersionTLS12}
	if err := setCiphers(cfg, s.Ciphers); err != nil {
		return nil, "", false, err
	}
	if s.ClientCAFile != "" || s.ClientCADir != "" {
		pool := x509.NewCertPool()
		if err := addTrust(pool, s.ClientCAFile, s.ClientCADir); err != nil {
			return nil, "", false, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, Fingerprint(cert.Certificate[0]), generated, nil
}

// Ephemeral makes a self-signed ECDSA P-256 certificate for localhost,
// 127.0.0.1 and ::1, valid for a day.
func Ephemeral() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return tls.Certificate{}, err
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "sockit ephemeral"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func loadPair(certFile, keyFile string) (tls.Certificate, error) {
	if keyFile == "" {
		keyFile = certFile // one PEM holding both, as ncat and socat accept
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load certificate %s: %w", certFile, err)
	}
	return cert, nil
}

// addTrust adds the certificates of a PEM file and of every PEM file in
// a directory, either of which may be "".
func addTrust(pool *x509.CertPool, file, dir string) error {
	if file != "" {
		if err := addPEM(pool, file); err != nil {
			return err
		}
	}
	if dir == "" {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("trust directory: %w", err)
	}
	found := false
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil || e.IsDir() {
			continue // a subdirectory or a dangling hash link: OpenSSL skips it too
		}
		found = pool.AppendCertsFromPEM(b) || found
	}
	if !found {
		return fmt.Errorf("trust directory %s: no PEM certificates in it", dir)
	}
	return nil
}

func addPEM(pool *x509.CertPool, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("trust file: %w", err)
	}
	if !pool.AppendCertsFromPEM(b) {
		return fmt.Errorf("trust file %s: no PEM certificates in it", file)
	}
	return nil
}

// setCiphers restricts cfg's TLS 1.2 suites to a comma- or colon-separated
// list of Go cipher suite names (TLS 1.3's suites are not configurable).
func setCiphers(cfg *tls.Config, list string) error {
	if list == "" {
		return nil
	}
	byName := map[string]uint16{}
	for _, s := range tls.CipherSuites() {
		byName[s.Name] = s.ID
	}
	for _, name := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ':' }) {
		id, ok := byName[name]
		if !ok {
			return fmt.Errorf("unknown cipher suite %q (Go names, such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)", name)
		}
		cfg.CipherSuites = append(cfg.CipherSuites, id)
	}
	return nil
}
