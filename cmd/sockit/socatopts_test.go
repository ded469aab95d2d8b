//go:build linux

package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sockit/sockit/internal/testenv"
)

// TestSocatPTYWaitSlave: with pty-wait-slave the PTY address waits for a
// program to open the terminal, holds no copy of it, and so ends when
// that program closes it; socat and the socat link agree.
func TestSocatPTYWaitSlave(t *testing.T) {
	for name, cmd := range socatTools(t) {
		link := filepath.Join(t.TempDir(), "tty")
		p := testenv.Start(t, nil, append(cmd, "-u", "PTY,link="+link+",wait-slave,pty-interval=0.05,rawer", "STDOUT")...)
		for i := 0; i < 1000; i++ {
			if _, err := os.Lstat(link); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		tty, err := os.OpenFile(link, os.O_WRONLY, 0)
		if err != nil {
			t.Fatalf("%s: open the terminal: %v", name, err)
		}
		tty.WriteString("through the pty\n")
		// Hold the terminal open until it is read: a program that opens
		// and closes it between two looks is not seen (socat's rule too).
		for i := 0; i < 1000 && !strings.Contains(p.Stdout.String(), "through"); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		tty.Close()
		if code := p.Wait(t); code != 0 || p.Stdout.String() != "through the pty\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, p.Stdout.String(), p.Stderr.String())
		}
	}
}

// TestSocatFSFlags: fs-* set and clear the file's inode flags (chattr)
// once it is open, as socat's do.
func TestSocatFSFlags(t *testing.T) {
	const nodump, noatime = 0x40, 0x80
	for name, cmd := range socatTools(t) {
		f := filepath.Join(t.TempDir(), "f")
		p := testenv.Start(t, strings.NewReader("x"), append(cmd, "-u", "-", "CREATE:"+f+",fs-nodump=1,fs-noatime")...)
		if code := p.Wait(t); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, p.Stderr.String())
		}
		flags := inodeFlags(t, f)
		if flags&(nodump|noatime) != nodump|noatime {
			if flags == 0 && strings.Contains(p.Stderr.String(), "not supported") {
				t.Skipf("the file system has no inode flags: %s", p.Stderr.String())
			}
			t.Errorf("%s: flags %#x after fs-nodump=1,fs-noatime", name, flags)
		}
		p = testenv.Start(t, strings.NewReader("y"), append(cmd, "-u", "-", "OPEN:"+f+",fs-nodump=0")...)
		if code := p.Wait(t); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, p.Stderr.String())
		}
		if flags := inodeFlags(t, f); flags&(nodump|noatime) != noatime {
			t.Errorf("%s: flags %#x after fs-nodump=0", name, flags)
		}
	}
}

func inodeFlags(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Skipf("FS_IOC_GETFLAGS: %v", err)
	}
	return n
}

// TestSocatProxyOptions: PROXY's proxy-resolve sends the proxy an IPv4
// address instead of the name, proxy-authorization-file reads the
// credentials from a file, and ignorecr takes an answer with bare NLs.
// socat and the socat link send the proxy the same request.
func TestSocatProxyOptions(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	os.WriteFile(creds, []byte("user:secret\n"), 0o600)
	for name, cmd := range socatTools(t) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		heads := make(chan []string, 1)
		go func() {
			c, err := ln.Accept()
			ln.Close()
			if err != nil {
				heads <- nil
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			var head []string
			for {
				line, err := br.ReadString('\n')
				if err != nil || line == "\r\n" {
					break
				}
				head = append(head, strings.TrimRight(line, "\r\n"))
			}
			heads <- head
			c.Write([]byte("HTTP/1.0 200 OK\nServer: sloppy\n\nfrom behind the proxy\n"))
		}()
		_, pport, _ := net.SplitHostPort(ln.Addr().String())
		p := testenv.Start(t, strings.NewReader(""), append(cmd, "-",
			"PROXY:127.0.0.1:localhost:4242,proxyport="+pport+",proxy-resolve,ignorecr,proxy-authorization-file="+creds)...)
		head := <-heads
		if code := p.Wait(t); code != 0 || p.Stdout.String() != "from behind the proxy\n" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, p.Stdout.String(), p.Stderr.String())
		}
		// The request line names the address; the credentials are the
		// file's (socat keeps its final newline, sockit drops it).
		if len(head) == 0 || !strings.HasPrefix(head[0], "CONNECT 127.0.0.1:4242 HTTP/1.") {
			t.Errorf("%s: the proxy got %q", name, head)
		}
		var creds string
		for _, h := range head {
			if k, v, _ := strings.Cut(h, ": "); strings.EqualFold(k, "Proxy-Authorization") {
				b, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(v, "Basic "))
				creds = strings.TrimSuffix(string(b), "\n")
			}
		}
		if creds != "user:secret" {
			t.Errorf("%s: the proxy got credentials %q in %q", name, creds, head)
		}
	}
}

// TestSocatCAPath: OPENSSL's capath trusts the CAs in a directory (with
// OpenSSL's hash links, which socat needs and sockit reads as files).
func TestSocatCAPath(t *testing.T) {
	c := makeCerts(t)
	dir := t.TempDir()
	ca, _ := os.ReadFile(c.ca)
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca, 0o644)
	if out, err := exec.Command(testenv.Peer(t, "openssl"), "rehash", dir).CombinedOutput(); err != nil {
		t.Fatalf("openssl rehash: %v\n%s", err, out)
	}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "README"), []byte("no certificates here\n"), 0o644)
	for name, cmd := range socatTools(t) {
		for _, tc := range []struct {
			capath string
			ok     bool
		}{{dir, true}, {empty, false}} {
			port := testenv.FreePort(t, "tcp4", "127.0.0.1")
			srv := testenv.Start(t, strings.NewReader("tls answer\n"), append(cmd, "-u",
				"OPENSSL-LISTEN:"+port+",bind=127.0.0.1,reuseaddr,cert="+c.srv+",key="+c.srvKey+",verify=0", "STDOUT")...)
			waitTCP(t, "127.0.0.1:"+port)
			p := testenv.Start(t, strings.NewReader("via capath\n"), append(cmd, "-u", "-",
				"OPENSSL:127.0.0.1:"+port+",commonname=localhost,capath="+tc.capath)...)
			code := p.Wait(t)
			if tc.ok {
				srv.Wait(t)
				if code != 0 || srv.Stdout.String() != "via capath\n" {
					t.Errorf("%s capath=%s: exit %d, server got %q, stderr %q", name, tc.capath, code, srv.Stdout.String(), p.Stderr.String())
				}
				continue
			}
			if code == 0 {
				t.Errorf("%s: a capath without the CA was trusted", name)
			}
			srv.Cmd.Process.Kill()
		}
	}
}

// TestSocatOwnerIoctls: fiosetown and siocspgrp make the ioctls socat
// makes on the socket (seen by strace).
func TestSocatOwnerIoctls(t *testing.T) {
	strace := testenv.Peer(t, "strace")
	// A call strace splits ("<unfinished ...>", when another thread's
	// ioctl comes in between) still shows its arguments on its first line.
	re := regexp.MustCompile(`ioctl\(\d+, (FIOSETOWN|SIOCSPGRP), \[(\d+)\]`)
	failed := regexp.MustCompile(`(FIOSETOWN|SIOCSPGRP).*= -1`)
	for name, cmd := range socatTools(t) {
		echo := echoServer(t, "tcp4", "127.0.0.1:0")
		argv := append([]string{strace, "-f", "-e", "trace=ioctl"}, cmd...)
		pid := strconv.Itoa(os.Getpid()) // the owner must exist
		argv = append(argv, "-", "TCP:"+echo+",fiosetown="+pid+",siocspgrp="+pid)
		p := testenv.Start(t, strings.NewReader("x\n"), argv...)
		if code := p.Wait(t); code != 0 || p.Stdout.String() != "x\n" {
			t.Fatalf("%s: exit %d, stdout %q: %s", name, code, p.Stdout.String(), p.Stderr.String())
		}
		got := map[string]string{}
		for _, m := range re.FindAllStringSubmatch(p.Stderr.String(), -1) {
			got[m[1]] = m[2]
		}
		if f := failed.FindString(p.Stderr.String()); f != "" {
			t.Errorf("%s: an ioctl failed: %s", name, f)
		}
		if got["FIOSETOWN"] != pid || got["SIOCSPGRP"] != pid {
			t.Errorf("%s: ioctls %v, want FIOSETOWN and SIOCSPGRP %s", name, got, pid)
		}
	}
}

// TestSocatForkConnectMatch: fork on a connecting address connects again
// as soon as it has a connection, each one joined with a fresh other
// address, until a connect fails; socat and the socat link agree.
func TestSocatForkConnectMatch(t *testing.T) {
	for name, cmd := range socatTools(t) {
		for _, extra := range []string{"", ",max-children=2"} {
			if extra != "" && name == "socat" {
				continue // socat 1.7.4's children refuse max-children on a connecting address
			}
			ln, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				for i := range 5 {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					fmt.Fprintf(c, "connection %d\n", i)
					c.Close()
				}
				ln.Close()
			}()
			// -T 3: a connect that lands in the listener's queue as it
			// closes can be dropped by the kernel without a reset, leaving
			// a session (socat's and sockit's alike) that hears nothing;
			// the idle timeout ends it rather than the test.
			p := testenv.Start(t, nil, append(cmd, "-T", "3", "-u", "TCP:"+ln.Addr().String()+",fork"+extra, "STDOUT")...)
			code := p.Wait(t)
			lines := strings.Split(strings.TrimSpace(p.Stdout.String()), "\n")
			sort.Strings(lines)
			want := []string{"connection 0", "connection 1", "connection 2", "connection 3", "connection 4"}
			if code != 1 || !slices.Equal(lines, want) {
				t.Errorf("%s fork%s: exit %d, stdout %q, stderr %q", name, extra, code, lines, p.Stderr.String())
			}
		}
	}
}

// TestSocatForkStdoutMatch: a forking listener joined with STDOUT writes
// every client's bytes there: one session ending does not close stdout
// for the next (each of socat's children has its own descriptor).
func TestSocatForkStdoutMatch(t *testing.T) {
	for name, cmd := range socatTools(t) {
		port := testenv.FreePort(t, "tcp4", "127.0.0.1")
		p := testenv.Start(t, nil, append(cmd, "-u", "TCP-LISTEN:"+port+",bind=127.0.0.1,reuseaddr,fork", "STDOUT")...)
		waitTCP(t, "127.0.0.1:"+port)
		for i := range 3 {
			c, err := net.Dial("tcp4", "127.0.0.1:"+port)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(c, "client %d\n", i)
			c.Close()
			want := fmt.Sprintf("client %d\n", i)
			for j := 0; j < 1000 && !strings.Contains(p.Stdout.String(), want); j++ {
				time.Sleep(10 * time.Millisecond)
			}
		}
		if got := p.Stdout.String(); got != "client 0\nclient 1\nclient 2\n" {
			t.Errorf("%s: stdout %q, stderr %q", name, got, p.Stderr.String())
		}
	}
}
