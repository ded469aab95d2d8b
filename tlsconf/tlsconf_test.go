package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// issue writes a certificate and key for names, signed by parent (or
// self-signed when parent is nil), and returns the cert, key and paths.
func issue(t *testing.T, dir, name string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, ext x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage:  []x509.ExtKeyUsage{ext},
	}
	if isCA {
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage = x509.KeyUsageCertSign
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		signer, signerKey = parent, parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key, certPath, keyPath
}

// handshake runs a TLS handshake over loopback and returns the client's
// error.
func handshake(t *testing.T, server *tls.Config, client *tls.Config) error {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		s := tls.Server(c, server)
		if s.Handshake() == nil {
			s.Write([]byte("ok"))
		}
	}()
	c, err := tls.Dial("tcp4", ln.Addr().String(), client)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 2)
	_, err = c.Read(buf)
	return err
}

func TestPinning(t *testing.T) {
	srv, fp, generated, err := Server{}.Config()
	if err != nil || !generated || !strings.HasPrefix(fp, "sha256:") {
		t.Fatalf("ephemeral server: %v, %q, %v", err, fp, generated)
	}
	// Unknown self-signed certificate: refused, with the way to pin it.
	cfg, _ := Client{}.Config("127.0.0.1")
	err = handshake(t, srv, cfg)
	var ve *VerifyError
	if !errors.As(err, &ve) || ve.Fingerprint != fp || !strings.Contains(err.Error(), "--ssl-pin "+fp) {
		t.Fatalf("unpinned: %v, want a VerifyError naming %s", err, fp)
	}
	cfg, _ = Client{Pins: []string{fp}}.Config("127.0.0.1")
	if err := handshake(t, srv, cfg); err != nil {
		t.Fatalf("pinned: %v", err)
	}
	other := "sha256:" + strings.Repeat("ab", 32)
	cfg, _ = Client{Pins: []string{other}}.Config("127.0.0.1")
	if err := handshake(t, srv, cfg); !errors.As(err, &ve) {
		t.Fatalf("wrong pin: %v, want refused", err)
	}
	cfg, _ = Client{Insecure: true}.Config("127.0.0.1")
	if err := handshake(t, srv, cfg); err != nil {
		t.Fatalf("insecure: %v", err)
	}
	if _, err := (Client{Pins: []string{"md5:00"}}).Config("x"); err == nil {
		t.Error("a malformed pin was accepted")
	}
}

func TestTrustFileAndHostname(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caPath, _ := issue(t, dir, "ca", true, nil, nil, x509.ExtKeyUsageAny)
	_, _, certPath, keyPath := issue(t, dir, "server", false, ca, caKey, x509.ExtKeyUsageServerAuth)
	srv, _, generated, err := Server{CertFile: certPath, KeyFile: keyPath}.Config()
	if err != nil || generated {
		t.Fatal(err)
	}
	cfg, err := Client{TrustFile: caPath}.Config("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, srv, cfg); err != nil {
		t.Fatalf("trusted CA: %v", err)
	}
	cfg, _ = Client{TrustFile: caPath, ServerName: "db.example"}.Config("127.0.0.1")
	if err := handshake(t, srv, cfg); err == nil || !strings.Contains(err.Error(), "db.example") {
		t.Fatalf("wrong name: %v, want a hostname error", err)
	}
	cfg, _ = Client{}.Config("127.0.0.1") // system roots only
	if err := handshake(t, srv, cfg); err == nil || !strings.Contains(err.Error(), "unknown authority") {
		t.Fatalf("untrusted CA: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caPath, _ := issue(t, dir, "ca", true, nil, nil, x509.ExtKeyUsageAny)
	_, _, certPath, keyPath := issue(t, dir, "server", false, ca, caKey, x509.ExtKeyUsageServerAuth)
	_, _, clientCert, clientKey := issue(t, dir, "client", false, ca, caKey, x509.ExtKeyUsageClientAuth)
	srv, _, _, err := Server{CertFile: certPath, KeyFile: keyPath, ClientCAFile: caPath}.Config()
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := Client{TrustFile: caPath}.Config("127.0.0.1")
	if err := handshake(t, srv, cfg); err == nil {
		t.Fatal("a client without a certificate got through")
	}
	cfg, err = Client{TrustFile: caPath, CertFile: clientCert, KeyFile: clientKey}.Config("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := handshake(t, srv, cfg); err != nil {
		t.Fatalf("client certificate: %v", err)
	}
}

func TestCiphers(t *testing.T) {
	if _, err := (Client{Ciphers: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}).Config("x"); err != nil {
		t.Error(err)
	}
	if _, err := (Client{Ciphers: "RC4-MD5"}).Config("x"); err == nil || !strings.Contains(err.Error(), "RC4-MD5") {
		t.Errorf("unknown suite: %v", err)
	}
}
