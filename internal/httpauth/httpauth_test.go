package httpauth

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseChallenges(t *testing.T) {
	tests := []struct {
		in   []string
		want []Challenge
	}{
		{[]string{`Basic realm="Ncat"`}, []Challenge{{"basic", map[string]string{"realm": "Ncat"}}}},
		{[]string{`Basic realm="a", Digest realm="b", nonce="c", qop="auth,auth-int"`},
			[]Challenge{{"basic", map[string]string{"realm": "a"}}, {"digest", map[string]string{"realm": "b", "nonce": "c", "qop": "auth,auth-int"}}}},
		{[]string{`DIGEST Realm=r, NONCE="n\"q"`, `basic realm=x`},
			[]Challenge{{"digest", map[string]string{"realm": "r", "nonce": `n"q`}}, {"basic", map[string]string{"realm": "x"}}}},
		{[]string{`Negotiate`, ``, `,,`}, []Challenge{{"negotiate", map[string]string{}}}},
		{[]string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			[]Challenge{{"newauth", map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}}, {"basic", map[string]string{"realm": "simple"}}}},
	}
	for _, tt := range tests {
		if got := ParseChallenges(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseChallenges(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		in   string
		want Credentials
		ok   bool
	}{
		{"Basic Ym9iOnB3", Credentials{"basic", "Ym9iOnB3", map[string]string{}}, true},
		{"bAsIc   Ym9iOnB3  ", Credentials{"basic", "Ym9iOnB3", map[string]string{}}, true},
		{`Digest username="bob", uri="h:1", response="r"`, Credentials{"digest", "", map[string]string{"username": "bob", "uri": "h:1", "response": "r"}}, true},
		{`Digest username="bob" uri="h:1"`, Credentials{}, false},
		{`Digest =x`, Credentials{}, false},
		{``, Credentials{}, false},
		{`Basic,x`, Credentials{}, false},
	}
	for _, tt := range tests {
		got, err := ParseCredentials(tt.in)
		if (err == nil) != tt.ok || (tt.ok && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("ParseCredentials(%q) = %+v, %v; want %+v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestDecodeBasic(t *testing.T) {
	tests := []struct{ token, user, pass string }{
		{"Ym9iOnB3", "bob", "pw"},
		{"YTpi", "a", "b"},
		{"YTo=", "a", ""},        // padded
		{"YTo", "a", ""},         // unpadded
		{"OnB3", "", "pw"},       // empty user
		{"YTpiOmM=", "a", "b:c"}, // a colon in the password
	}
	for _, tt := range tests {
		u, p, err := DecodeBasic(tt.token)
		if err != nil || u != tt.user || p != tt.pass {
			t.Errorf("DecodeBasic(%q) = %q, %q, %v; want %q, %q", tt.token, u, p, err, tt.user, tt.pass)
		}
	}
	for _, bad := range []string{"!!!", "YWJj" /* "abc": no colon */, ""} {
		if _, _, err := DecodeBasic(bad); err == nil {
			t.Errorf("DecodeBasic(%q) accepted", bad)
		}
	}
}

// TestResponse checks Digest against RFC 2617's worked example (qop=auth)
// and the same values in RFC 2069's form, computed with md5sum.
func TestResponse(t *testing.T) {
	p := map[string]string{"realm": "testrealm@host.com", "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		"qop": "auth", "nc": "00000001", "cnonce": "0a4f113b"}
	got, err := Response(p, "Mufasa", "Circle Of Life", "GET", "/dir/index.html")
	if err != nil || got != "6629fae49393a05397450978507c4ef1" {
		t.Errorf("qop=auth: %q, %v", got, err)
	}
	delete(p, "qop")
	got, err = Response(p, "Mufasa", "Circle Of Life", "GET", "/dir/index.html")
	if err != nil || got != "670fd8c2df070c60b045671b8b24ff02" {
		t.Errorf("RFC 2069: %q, %v", got, err)
	}
	for _, bad := range []map[string]string{{"algorithm": "SHA-512-256"}, {"qop": "auth-int"}} {
		if _, err := Response(bad, "u", "p", "GET", "/"); err == nil {
			t.Errorf("Response(%v) accepted", bad)
		}
	}
}

// TestDigestRoundTrip: what Digest sends, a server reading it with
// ParseCredentials and Response accepts, for each challenge form.
func TestDigestRoundTrip(t *testing.T) {
	for _, ch := range []string{
		`Digest realm="r", nonce="n1", qop="auth"`,
		`Digest realm="r", nonce="n1", qop="auth-int, auth", opaque="o"`,
		`Digest realm="r", nonce="n1"`,
		`Digest realm="r", nonce="n1", algorithm=SHA-256, qop="auth"`,
	} {
		v, err := Digest(ParseChallenges([]string{ch})[0], "bob", `p"w`, "CONNECT", "h:443")
		if err != nil {
			t.Errorf("%s: %v", ch, err)
			continue
		}
		cr, err := ParseCredentials(v)
		if err != nil {
			t.Errorf("%s: sent %q, which does not parse: %v", ch, v, err)
			continue
		}
		want, err := Response(cr.Params, "bob", `p"w`, "CONNECT", "h:443")
		if err != nil || cr.Params["response"] != want || cr.Params["username"] != "bob" || cr.Params["uri"] != "h:443" {
			t.Errorf("%s: sent %q", ch, v)
		}
		if strings.Contains(ch, "opaque") != (cr.Params["opaque"] == "o") {
			t.Errorf("%s: opaque not echoed: %q", ch, v)
		}
	}
	if _, err := Digest(ParseChallenges([]string{`Digest realm="r", nonce="n", qop="auth-int"`})[0], "u", "p", "GET", "/"); err == nil {
		t.Error("a challenge offering only auth-int was answered")
	}
}

func TestAnswer(t *testing.T) {
	both := ParseChallenges([]string{`Basic realm="r"`, `Digest realm="r", nonce="n", qop="auth"`})
	if v, err := Answer(both, "u", "p", "CONNECT", "h:1"); err != nil || !strings.HasPrefix(v, "Digest ") {
		t.Errorf("Basic and Digest offered: %q, %v; want Digest", v, err)
	}
	basic := ParseChallenges([]string{`Basic realm="r"`, `Digest realm="r", nonce="n", qop="auth-int"`})
	if v, err := Answer(basic, "u", "p", "CONNECT", "h:1"); err != nil || v != Basic("u", "p") {
		t.Errorf("Digest unusable: %q, %v; want Basic", v, err)
	}
	for _, chs := range [][]Challenge{nil, ParseChallenges([]string{"Negotiate"})} {
		if v, err := Answer(chs, "u", "p", "CONNECT", "h:1"); err == nil {
			t.Errorf("Answer(%v) = %q", chs, v)
		}
	}
}

// FuzzParse: challenges and credentials from any bytes parse without a
// panic, and a Digest answer to any challenge parses back.
func FuzzParse(f *testing.F) {
	for _, s := range []string{`Basic realm="a", Digest realm="b", nonce="c", qop="auth"`, `Digest username="x", uri="/"`,
		`Basic Ym9iOnB3`, `a=b, , c="\`, `Digest realm="\"", nonce=x`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseCredentials(s)
		for _, ch := range ParseChallenges([]string{s}) {
			if ch.Scheme != "digest" {
				continue
			}
			v, err := Digest(ch, "user", "pass", "CONNECT", "h:1")
			if err != nil {
				continue
			}
			if _, err := ParseCredentials(v); err != nil {
				t.Fatalf("answer %q to %q does not parse: %v", v, s, err)
			}
		}
	})
}

// Example answers a proxy's 407: Digest is preferred when it is offered.
func ExampleAnswer() {
	chs := ParseChallenges([]string{`Basic realm="Ncat"`, `Digest realm="Ncat", nonce="abc"`})
	v, _ := Answer(chs, "bob", "secret", "CONNECT", "db.example:5432")
	fmt.Println(v)
	// Output: Digest username="bob", realm="Ncat", nonce="abc", uri="db.example:5432", response="b707c6b533d2babdf875a6cafcb8e181"
}
