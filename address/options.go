package address

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// valueType is what an option's value must look like.
type valueType int

const (
	flag    valueType = iota // no value, or 0/1
	integer                  // a non-negative decimal number
	size                     // bytes, with an optional k/m suffix
	seconds                  // socat's seconds: "1.5", also Go durations "500ms"
	text                     // any string
	octal                    // a file mode such as 0600
	port                     // a port number, 0 to 65535
	number                   // a whole number, maybe negative; none means 1 (socat's INT options)
	family                   // ip4, ip6 (and socat's aliases)
)

// optionInfo describes one option: its value and the kinds that take it.
type optionInfo struct {
	value valueType
	kinds []Kind
	help  string
}

var (
	listenKinds = []Kind{TCPListen, UDPListen, UDPRecvfrom, UnixListen, UnixRecvfrom, OpenSSLListen, IPRecvfrom, SocketListen, VsockListen}
	ipKinds     = []Kind{TCP, TCPListen, UDP, UDPListen, UDPSendto, UDPRecvfrom, UDPRecv, UDPDatagram, OpenSSL, OpenSSLListen,
		Socks4, Socks4A, Socks5, Proxy, IPSendto, IPRecvfrom, IPRecv, IPDatagram}
	udpKinds     = []Kind{UDP, UDPListen, UDPSendto, UDPRecvfrom, UDPRecv, UDPDatagram, IPSendto, IPRecvfrom, IPRecv, IPDatagram}
	tcpKinds     = []Kind{TCP, TCPListen, OpenSSL, OpenSSLListen, Socks4, Socks4A, Socks5, Proxy}
	clientKinds  = []Kind{TCP, UDP, UDPSendto, UDPDatagram, OpenSSL, Socks4, Socks4A, Socks5, Proxy}
	tlsKinds     = []Kind{OpenSSL, OpenSSLListen}
	unixKinds    = []Kind{UnixConnect, UnixListen, UnixSendto, UnixRecvfrom, UnixRecv, UnixClient}
	genericKinds = []Kind{SocketConnect, SocketListen, SocketSendto, SocketRecvfrom, SocketRecv, SocketDatagram, VsockConnect, VsockListen}
	socketKinds  = append(append(append([]Kind{Interface}, ipKinds...), unixKinds...), genericKinds...)
	ifaceKinds   = []Kind{Interface, TUN}
	dialKinds    = []Kind{TCP, UDP, UDPSendto, UnixConnect, UnixSendto, UnixClient, OpenSSL, Socks4, Socks4A, Socks5, Proxy, SocketConnect, VsockConnect}
	childKinds   = []Kind{Exec, System}
	fileKinds    = []Kind{File, Create, Gopen, Pipe}
	namedKinds   = append([]Kind{UnixListen, UnixRecvfrom, UnixRecv, UnixConnect, UnixSendto, UnixClient}, fileKinds...)
	processKinds = []Kind(nil) // any: on EXEC and SYSTEM the child's, elsewhere sockit's own process
)

// options lists every option sockit accepts: sockit's names for the
// options it had first, socat's canonical names for the rest.
var options = mergeOptions(baseOptions, sockoptOptions(), termiosOptions(), socatOptions)

func mergeOptions(ms ...map[string]optionInfo) map[string]optionInfo {
	out := map[string]optionInfo{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// socatOptions are socat's options beyond plain socket options, under
// socat's names.
var socatOptions = map[string]optionInfo{
	"sourceport":                {port, clientKinds, "connect from this local port (socat's sp)"},
	"lowport":                   {flag, clientKinds, "connect from a free port between 640 and 1023 (root)"},
	"so-linger":                 {integer, socketKinds, "SO_LINGER: on, with this many seconds"},
	"so-bindtodevice":           {text, socketKinds, "SO_BINDTODEVICE: use only this interface"},
	"setsockopt-int":            {text, socketKinds, "setsockopt(level, option, int): level:option:value"},
	"setsockopt-bin":            {text, socketKinds, "setsockopt(level, option, bytes): level:option:dalan"},
	"setsockopt":                {text, socketKinds, "setsockopt(level, option, bytes): level:option:dalan"},
	"setsockopt-listen":         {text, socketKinds, "setsockopt(level, option, bytes) on the listening socket"},
	"setsockopt-string":         {text, socketKinds, "setsockopt(level, option, string with its NUL): level:option:string"},
	"ip-add-membership":         {text, udpKinds, "join a multicast group: group:interface-address[:interface] or group:interface"},
	"ip-multicast-if":           {text, udpKinds, "send multicast from the interface with this address"},
	"ipv6-join-group":           {text, udpKinds, "join an IPv6 multicast group: group:interface"},
	"o-create":                  {flag, fileKinds, "O_CREAT: create the file if it does not exist"},
	"o-excl":                    {flag, fileKinds, "O_EXCL: with o-create, fail if the file exists"},
	"o-noctty":                  {flag, fileKinds, "O_NOCTTY"},
	"o-sync":                    {flag, fileKinds, "O_SYNC"},
	"o-dsync":                   {flag, fileKinds, "O_DSYNC"},
	"o-rsync":                   {flag, fileKinds, "O_RSYNC"},
	"o-direct":                  {flag, fileKinds, "O_DIRECT"},
	"o-nofollow":                {flag, fileKinds, "O_NOFOLLOW: do not follow a symbolic link"},
	"o-directory":               {flag, fileKinds, "O_DIRECTORY"},
	"o-largefile":               {flag, fileKinds, "O_LARGEFILE (always on here)"},
	"o-rdonly":                  {flag, fileKinds, "open for reading only"},
	"o-wronly":                  {flag, fileKinds, "open for writing only"},
	"o-rdwr":                    {flag, fileKinds, "open for reading and writing"},
	"o-nonblock":                {flag, fileKinds, "O_NONBLOCK"},
	"cloexec":                   {flag, nil, "FD_CLOEXEC (sockit's descriptors always have it)"},
	"user":                      {text, namedKinds, "owner of the file or socket file (name or number)"},
	"group":                     {text, namedKinds, "group of the file or socket file (name or number)"},
	"user-late":                 {text, namedKinds, "as user, set on the open descriptor"},
	"group-late":                {text, namedKinds, "as group, set on the open descriptor"},
	"perm-late":                 {octal, namedKinds, "as perm, set on the open descriptor"},
	"perm-early":                {octal, namedKinds, "as perm"},
	"user-early":                {text, namedKinds, "as user"},
	"group-early":               {text, namedKinds, "as group"},
	"umask":                     {octal, nil, "the umask while the address is opened"},
	"unlink-late":               {flag, namedKinds, "remove the file system entry once it is open"},
	"shut-none":                 {flag, nil, "at end of stream, leave this address's write side as it is"},
	"shut-down":                 {flag, nil, "at end of stream, shutdown(SHUT_WR) (sockets' default)"},
	"shut-close":                {flag, nil, "at end of stream, close this address"},
	"shut-null":                 {flag, nil, "at end of stream, send an empty packet (datagram peers read it as EOF)"},
	"end-close":                 {flag, nil, "end the connection by closing the descriptor"},
	"null-eof":                  {flag, nil, "read an empty datagram as end of stream"},
	"cool-write":                {flag, nil, "a write that fails with EPIPE or ECONNRESET ends the stream quietly"},
	"readbytes":                 {size, nil, "read at most this many bytes from the address, then see end of stream"},
	"lockfile":                  {text, nil, "fail when this lock file exists; hold it while the address is open"},
	"waitlock":                  {text, nil, "wait until this lock file is gone; hold it while the address is open"},
	"substuser":                 {text, processKinds, "run as this user (and its groups) after opening (on EXEC: the child)"},
	"substuser-delayed":         {text, processKinds, "as substuser, once the transfer starts"},
	"chroot":                    {text, processKinds, "chroot to this directory after opening (on EXEC: the child)"},
	"chroot-early":              {text, processKinds, "chroot before opening"},
	"setuid":                    {text, processKinds, "set the user id after opening (on EXEC: the child)"},
	"setgid":                    {text, processKinds, "set the group id after opening (on EXEC: the child)"},
	"setuid-early":              {text, processKinds, "set the user id before opening"},
	"setgid-early":              {text, processKinds, "set the group id before opening"},
	"setpgid":                   {integer, childKinds, "put the child in this process group (0: its own)"},
	"pipes":                     {flag, childKinds, "talk to the child through pipes (sockit's default)"},
	"stderr":                    {flag, childKinds, "the child's stderr goes where its stdout goes"},
	"nofork":                    {flag, childKinds, "hand the child the other address's socket itself"},
	"fdin":                      {integer, childKinds, "the descriptor the child reads from (default 0)"},
	"fdout":                     {integer, childKinds, "the descriptor the child writes to (default 1)"},
	"sighup":                    {flag, childKinds, "pass SIGHUP on to the child"},
	"sigint":                    {flag, childKinds, "pass SIGINT on to the child"},
	"sigquit":                   {flag, childKinds, "pass SIGQUIT on to the child"},
	"path":                      {text, childKinds, "the PATH the program is looked up in"},
	"dash":                      {flag, childKinds, "start the program as a login shell (argv[0] begins with -)"},
	"openssl-min-proto-version": {text, tlsKinds, "the oldest TLS version to speak: TLS1.2 or TLS1.3"},
	"openssl-max-proto-version": {text, tlsKinds, "the newest TLS version to speak: TLS1.2 or TLS1.3"},
	"openssl-no-sni":            {flag, []Kind{OpenSSL}, "send no server name (SNI); the name is still verified"},
	"substuser-early":           {text, processKinds, "run as this user (and its groups) before opening"},
	"o-noatime":                 {flag, fileKinds, "O_NOATIME"},
	"async":                     {flag, fileKinds, "O_ASYNC"},
	"escape":                    {integer, nil, "reading this character code ends the stream (as EOF)"},
	"accept-timeout":            {seconds, listenKinds, "fail when no peer comes within this long"},
	"openpty":                   {flag, []Kind{PTY}, "make the terminal with openpty() (on Linux the same /dev/ptmx as ptmx)"},
	"ptmx":                      {flag, []Kind{PTY}, "make the terminal from /dev/ptmx (sockit's way)"},
	"ip-options":                {text, ipKinds, "IP_OPTIONS: the options bytes, in dalan"},
	"iff-up":                    {flag, ifaceKinds, "IFF_UP on the interface"},
	"iff-broadcast":             {flag, ifaceKinds, "IFF_BROADCAST on the interface"},
	"iff-debug":                 {flag, ifaceKinds, "IFF_DEBUG on the interface"},
	"iff-loopback":              {flag, ifaceKinds, "IFF_LOOPBACK on the interface"},
	"iff-pointopoint":           {flag, ifaceKinds, "IFF_POINTOPOINT on the interface"},
	"iff-notrailers":            {flag, ifaceKinds, "IFF_NOTRAILERS on the interface"},
	"iff-running":               {flag, ifaceKinds, "IFF_RUNNING on the interface"},
	"iff-noarp":                 {flag, ifaceKinds, "IFF_NOARP on the interface"},
	"iff-promisc":               {flag, ifaceKinds, "IFF_PROMISC on the interface"},
	"iff-allmulti":              {flag, ifaceKinds, "IFF_ALLMULTI on the interface"},
	"iff-master":                {flag, ifaceKinds, "IFF_MASTER on the interface"},
	"iff-slave":                 {flag, ifaceKinds, "IFF_SLAVE on the interface"},
	"iff-multicast":             {flag, ifaceKinds, "IFF_MULTICAST on the interface"},
	"iff-portsel":               {flag, ifaceKinds, "IFF_PORTSEL on the interface"},
	"iff-automedia":             {flag, ifaceKinds, "IFF_AUTOMEDIA on the interface"},
	"iff-dynamic":               {flag, ifaceKinds, "IFF_DYNAMIC on the interface"},
	"iff-no-pi":                 {flag, []Kind{TUN}, "IFF_NO_PI: packets without the 4-byte packet information header"},
	"tun-device":                {text, []Kind{TUN}, "the clone device to open (default /dev/net/tun)"},
	"tun-name":                  {text, []Kind{TUN}, "the interface's name (default: the kernel's tunN)"},
	"tun-type":                  {text, []Kind{TUN}, "tun (IP packets, default) or tap (Ethernet frames)"},
	"cr":                        {flag, nil, "LF to CR when writing to this address, CR to LF when reading"},
	"lseek64-set":               {integer, fileKinds, "seek to this offset once open (socat's seek)"},
	"lseek64-cur":               {number, fileKinds, "seek this far from the start position once open"},
	"lseek64-end":               {number, fileKinds, "seek this far from the end once open (seek-end: 0 starts at the end)"},
	"lseek32-set":               {integer, fileKinds, "as lseek64-set"},
	"lseek32-cur":               {number, fileKinds, "as lseek64-cur"},
	"lseek32-end":               {number, fileKinds, "as lseek64-end"},
	"ftruncate64":               {integer, fileKinds, "truncate the file to this length once open (socat's truncate)"},
	"ftruncate32":               {integer, fileKinds, "as ftruncate64"},
	"flock-ex":                  {flag, fileKinds, "flock(LOCK_EX): wait for an exclusive lock"},
	"flock-ex-nb":               {flag, fileKinds, "flock(LOCK_EX|LOCK_NB): an exclusive lock, or fail"},
	"flock-sh":                  {flag, fileKinds, "flock(LOCK_SH): wait for a shared lock"},
	"flock-sh-nb":               {flag, fileKinds, "flock(LOCK_SH|LOCK_NB): a shared lock, or fail"},
	"f-setlk-rd":                {flag, fileKinds, "fcntl(F_SETLK) a read lock on the whole file, or fail"},
	"f-setlk-wr":                {flag, fileKinds, "fcntl(F_SETLK) a write lock on the whole file, or fail"},
	"f-setlkw-rd":               {flag, fileKinds, "fcntl(F_SETLKW): wait for a read lock on the whole file"},
	"f-setlkw-wr":               {flag, fileKinds, "fcntl(F_SETLKW): wait for a write lock on the whole file"},
	"ioctl-void":                {text, append([]Kind{FD}, fileKinds...), "ioctl(fd, request) once open"},
	"ioctl-int":                 {text, append([]Kind{FD}, fileKinds...), "ioctl(fd, request, int): request:value"},
	"ioctl-intp":                {text, append([]Kind{FD}, fileKinds...), "ioctl(fd, request, &int): request:value"},
	"ioctl-bin":                 {text, append([]Kind{FD}, fileKinds...), "ioctl(fd, request, bytes): request:dalan"},
	"ioctl-string":              {text, append([]Kind{FD}, fileKinds...), "ioctl(fd, request, string): request:string"},
	"tiocsctty":                 {flag, append([]Kind{PTY}, childKinds...), "with pty: make the terminal the child's controlling terminal"},
	"fiosetown":                 {number, socketKinds, "ioctl(FIOSETOWN): the process (or -group) that gets SIGIO and SIGURG"},
	"siocspgrp":                 {number, socketKinds, "ioctl(SIOCSPGRP): as fiosetown"},
	"ignorecr":                  {flag, []Kind{Proxy}, "read NL as the end of a line in the proxy's answer (sockit always does)"},
	"proxy-resolve":             {flag, []Kind{Proxy}, "resolve the target here and send the proxy its address"},
	"proxy-authorization-file":  {text, []Kind{Proxy}, "read proxyauth's user:password from this file"},
	"openssl-capath":            {text, tlsKinds, "a directory of PEM CA certificates to trust, as cafile"},
	"pty-wait-slave":            {flag, []Kind{PTY}, "wait until a program opens the terminal before going on; its last close ends the session"},
	"pty-interval":              {seconds, []Kind{PTY}, "with pty-wait-slave: how often to look (default 1s)"},
	"fs-append":                 {flag, fileKinds, "chattr: set (1) or clear (0) the file's append attribute"},
	"fs-compr":                  {flag, fileKinds, "chattr: set (1) or clear (0) the file's compr attribute"},
	"fs-dirsync":                {flag, fileKinds, "chattr: set (1) or clear (0) the file's dirsync attribute"},
	"fs-immutable":              {flag, fileKinds, "chattr: set (1) or clear (0) the file's immutable attribute"},
	"fs-journal-data":           {flag, fileKinds, "chattr: set (1) or clear (0) the file's journal-data attribute"},
	"fs-noatime":                {flag, fileKinds, "chattr: set (1) or clear (0) the file's noatime attribute"},
	"fs-nodump":                 {flag, fileKinds, "chattr: set (1) or clear (0) the file's nodump attribute"},
	"fs-notail":                 {flag, fileKinds, "chattr: set (1) or clear (0) the file's notail attribute"},
	"fs-secrm":                  {flag, fileKinds, "chattr: set (1) or clear (0) the file's secrm attribute"},
	"fs-sync":                   {flag, fileKinds, "chattr: set (1) or clear (0) the file's sync attribute"},
	"fs-topdir":                 {flag, fileKinds, "chattr: set (1) or clear (0) the file's topdir attribute"},
	"fs-unrm":                   {flag, fileKinds, "chattr: set (1) or clear (0) the file's unrm attribute"},
}

// baseOptions are the options sockit had before socat's full table.
var baseOptions = map[string]optionInfo{
	"fork":            {flag, append(append([]Kind(nil), listenKinds...), dialKinds...), "serve every connection, each in its own goroutine; on a connecting address, connect again at once (a pool: bound it with max-children)"},
	"max-children":    {integer, append(append([]Kind(nil), listenKinds...), dialKinds...), "with fork: at most this many connections at once"},
	"backlog":         {integer, []Kind{TCPListen, UnixListen, OpenSSLListen, SocketListen, VsockListen}, "listen(2) backlog"},
	"range":           {text, []Kind{TCPListen, UDPListen, UDPRecvfrom, UDPRecv, UDPDatagram, OpenSSLListen, IPRecvfrom, IPRecv, IPDatagram}, "accept only peers in this range: address/bits, address:netmask, or one address or name"},
	"bind":            {text, socketKinds, "local address: host[:port] to connect from, host to listen on; a path for Unix sockets"},
	"pf":              {family, ipKinds, "address family: ip4 or ip6"},
	"reuseaddr":       {flag, socketKinds, "SO_REUSEADDR"},
	"reuseport":       {flag, socketKinds, "SO_REUSEPORT"},
	"nodelay":         {flag, tcpKinds, "TCP_NODELAY (Go's default: on)"},
	"keepalive":       {flag, socketKinds, "SO_KEEPALIVE"},
	"verify":          {flag, tlsKinds, "check the peer's certificate (default 1); verify=0 trusts anyone"},
	"cafile":          {text, tlsKinds, "PEM CA certificates to trust (a server: to require client certificates)"},
	"cert":            {text, tlsKinds, "PEM certificate (and key, unless key= is given)"},
	"key":             {text, tlsKinds, "PEM private key"},
	"commonname":      {text, []Kind{OpenSSL}, "the name the server's certificate must carry (default: the host)"},
	"snihost":         {text, []Kind{OpenSSL}, "the name sent as SNI (default: commonname or the host)"},
	"pin":             {text, []Kind{OpenSSL}, "trust a server certificate by fingerprint, sha256:<hex> (repeatable)"},
	"alpn":            {text, tlsKinds, "an ALPN protocol to offer or accept (repeatable)"},
	"via":             {text, []Kind{TCP, OpenSSL}, "reach the host through a proxy, TYPE://[USER:PASS@]HOST[:PORT] with TYPE http, socks4, socks4a or socks5 (repeat for a chain); an http hop answers the proxy's challenge, or sends Basic at once with ?auth=basic"},
	"proxy-dns":       {text, []Kind{TCP, OpenSSL}, "where a proxied host's name is resolved: remote (default), local, both, none"},
	"socksport":       {text, []Kind{Socks4, Socks4A, Socks5}, "the SOCKS server's port (default 1080)"},
	"socksuser":       {text, []Kind{Socks4, Socks4A, Socks5}, "the SOCKS user name"},
	"sockspass":       {text, []Kind{Socks5}, "the SOCKS5 password (with socksuser)"},
	"proxyport":       {text, []Kind{Proxy}, "the HTTP proxy's port (default 8080)"},
	"proxyauth":       {text, []Kind{Proxy}, "user:password for the proxy's Basic authentication"},
	"ciphers":         {text, tlsKinds, "TLS 1.2 cipher suites by Go name, colon-separated"},
	"rcvbuf":          {size, socketKinds, "SO_RCVBUF"},
	"sndbuf":          {size, socketKinds, "SO_SNDBUF"},
	"connect-timeout": {seconds, dialKinds, "give up connecting after this long"},
	"retry":           {integer, dialKinds, "retry a failed connect this many times"},
	"forever":         {flag, dialKinds, "retry a failed connect forever"},
	"interval":        {seconds, dialKinds, "first wait between retries; doubles up to 30 s"},
	"unlink-early":    {flag, namedKinds, "remove a stale socket file (or file) before binding or opening"},
	"unlink-close":    {flag, namedKinds, "remove the socket file when done (default on for listeners)"},
	"mode":            {octal, namedKinds, "permissions of the created file (socat's perm)"},
	"abstract":        {flag, unixKinds, "use Linux's abstract namespace"},
	"crlf":            {flag, nil, "LF to CRLF when writing to this address, CRLF to LF when reading"},
	"setsid":          {flag, childKinds, "run the child in a new session"},
	"pty":             {flag, childKinds, "run the child on a pseudo-terminal (end of input is sent as ^D)"},
	"link":            {text, []Kind{PTY}, "make a symlink at this path to the terminal"},
	"append":          {flag, fileKinds, "append to the file"},
	"trunc":           {flag, fileKinds, "truncate the file on open"},
	"ignoreeof":       {flag, fileKinds, "at end of file, wait for more (tail -f)"},
}

// aliases are names sockit takes beyond socat's own aliases.
var aliases = map[string]string{"reuse-addr": "reuseaddr", "unlink": "unlink-early"}

// fromSocat maps socat's canonical name of each option sockit has to
// sockit's name for it ("so-reuseaddr" to "reuseaddr").
var fromSocat = func() map[string]string {
	m := map[string]string{}
	for name := range options {
		if c := canonicalOption(name); c != name || socatOpts[c] != (socatOpt{}) {
			m[c] = name
		}
	}
	return m
}()

// unsupported are socat options sockit knows of but does not offer, with
// the reason; they are refused by name instead of being ignored.
var unsupported = map[string]string{
	"openssl-method":                   "sockit speaks TLS 1.2 and 1.3 only",
	"openssl-compress":                 "Go's crypto/tls has no TLS compression (and CRIME made it unsafe)",
	"openssl-dhparam":                  "Go's crypto/tls has no finite-field DH; it uses ECDHE",
	"openssl-egd":                      "there is no entropy daemon to ask; Go reads the kernel's random source",
	"openssl-pseudo":                   "Go reads the kernel's random source, which never runs dry",
	"tcpwrappers":                      "sockit has no TCP wrappers (libwrap); use range= or ncat's --allow/--deny",
	"tcpwrap-etc":                      "sockit has no TCP wrappers (libwrap); use range= or ncat's --allow/--deny",
	"tcpwrap-hosts-allow-table":        "sockit has no TCP wrappers (libwrap); use range= or ncat's --allow/--deny",
	"tcpwrap-hosts-deny-table":         "sockit has no TCP wrappers (libwrap); use range= or ncat's --allow/--deny",
	"so-type":                          "the type is the address type's (TCP is stream, UDP datagram)",
	"so-protocol":                      "the protocol is the address type's",
	"so-acceptconn":                    "SO_ACCEPTCONN can only be read",
	"so-error":                         "SO_ERROR can only be read",
	"so-peercred":                      "SO_PEERCRED can only be read",
	"tcp-info":                         "TCP_INFO can only be read",
	"ip-mtu":                           "IP_MTU can only be read",
	"ip-pktoptions":                    "IP_PKTOPTIONS can only be read",
	"so-attach-filter":                 "a socket filter needs a BPF program, which an option cannot carry",
	"so-detach-filter":                 "a socket filter needs a BPF program, which an option cannot carry",
	"tcp-md5sig":                       "TCP_MD5SIG takes a key structure per peer, which an option cannot carry",
	"so-security-authentication":       "Linux has no SO_SECURITY_* options",
	"so-security-encryption-network":   "Linux has no SO_SECURITY_* options",
	"so-security-encryption-transport": "Linux has no SO_SECURITY_* options",
	"res-debug":                        "Go's resolver has no resolver(3) flags",
	"res-defnames":                     "Go's resolver has no resolver(3) flags",
	"res-dnsrch":                       "Go's resolver has no resolver(3) flags",
	"res-igntc":                        "Go's resolver has no resolver(3) flags",
	"res-recurse":                      "Go's resolver has no resolver(3) flags",
	"res-stayopen":                     "Go's resolver has no resolver(3) flags",
	"res-usevc":                        "Go's resolver has no resolver(3) flags",
	"unix-tightsocklen":                "Go sizes Unix socket addresses itself",
}

// resolveOption finds the option a name means: sockit's name for it and
// socat's canonical name ("" for sockit's own options).
func resolveOption(name string) (sockit, socat string) {
	name = strings.ToLower(name)
	if a, ok := aliases[name]; ok {
		name = a
	}
	c := canonicalOption(name)
	if _, ok := socatOpts[c]; !ok {
		c = ""
	}
	if _, ok := options[name]; ok {
		return name, c
	}
	if n, ok := fromSocat[c]; ok {
		return n, c
	}
	return "", c
}

// validate checks every option of s: known, implemented by sockit for its
// kind, and with a well-formed value. It rewrites names to sockit's.
// anyGroup (socat's -g) only changes the wording of an option that does
// not apply: socat lets it through its group check and then fails with
// "could not be used".
func validate(in string, s *Spec, anyGroup bool) error {
	for i, o := range s.Options {
		name, socatName := resolveOption(o.Name)
		if name == "" {
			if socatName == "" {
				return &Error{Input: in, Token: o.Name, Msg: "unknown option", Hint: Suggest(o.Name, optionNames(s.Kind)),
					Socat: fmt.Sprintf("parseopts_table(): unknown option %q", o.Name)}
			}
			why, ok := unsupported[socatName]
			if !ok {
				why = "sockit does not implement socat's " + socatName + " yet"
			}
			return &Error{Input: in, Token: o.Name, Msg: "option not supported:", Hint: why,
				Socat: fmt.Sprintf("option %q is not supported: %s", o.Name, why)}
		}
		s.Options[i].Name = name
		info := options[name]
		if info.kinds != nil && !hasKind(info.kinds, s.Kind) {
			msg := fmt.Sprintf("parseopts_table(): option %q not supported with this address type", o.Name)
			if anyGroup { // socat -g lets it through to find it unused
				msg = "1 option(s) could not be used"
			}
			return &Error{Input: in, Token: o.Name, Msg: fmt.Sprintf("option does not apply to %s:", s.Kind),
				Hint: "sockit applies it to " + kindList(info.kinds), Socat: msg}
		}
		if err := checkValue(info.value, o.Value); err != nil {
			return &Error{Input: in, Token: o.Name + "=" + o.Value, Msg: "bad value in", Hint: err.Error(),
				Socat: fmt.Sprintf("parseopts(): bad value of option %q: %v", o.Name+"="+o.Value, err)}
		}
	}
	return nil
}

func checkValue(t valueType, v string) error {
	switch t {
	case flag:
		if v != "" && v != "0" && v != "1" {
			return fmt.Errorf("a flag takes no value, or 0 or 1")
		}
	case integer:
		if n, err := strconv.Atoi(v); err != nil || n < 0 {
			return fmt.Errorf("want a whole number")
		}
	case size:
		if _, err := ParseSize(v); err != nil {
			return err
		}
	case seconds:
		if _, err := ParseSeconds(v); err != nil {
			return err
		}
	case number:
		if _, err := strconv.Atoi(v); v != "" && err != nil {
			return fmt.Errorf("want a whole number")
		}
	case port:
		if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("want a port number, 0 to 65535")
		}
	case octal:
		if _, err := strconv.ParseUint(v, 8, 32); err != nil {
			return fmt.Errorf("want an octal mode such as 0600")
		}
	case family:
		switch v {
		case "ip4", "ipv4", "inet", "4", "ip6", "ipv6", "inet6", "6":
		default:
			return fmt.Errorf("want ip4 or ip6")
		}
	case text:
		if v == "" {
			return fmt.Errorf("want a value")
		}
	}
	return nil
}

// ParseSize reads a byte count with an optional k or m suffix (socat's
// rcvbuf=128k).
func ParseSize(v string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(v, "k"), strings.HasSuffix(v, "K"):
		mult, v = 1<<10, v[:len(v)-1]
	case strings.HasSuffix(v, "m"), strings.HasSuffix(v, "M"):
		mult, v = 1<<20, v[:len(v)-1]
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 1<<30/mult {
		return 0, fmt.Errorf("want a size such as 65536 or 64k")
	}
	return n * mult, nil
}

// ParseSeconds reads socat's times: seconds as a decimal ("0.5"), or a Go
// duration ("500ms").
func ParseSeconds(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e9 {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("want seconds such as 1.5 or a duration such as 500ms")
}

func hasKind(ks []Kind, k Kind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

func kindList(ks []Kind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// optionNames lists the options that apply to k.
func optionNames(k Kind) []string {
	var out []string
	for name, info := range options {
		if info.kinds == nil || hasKind(info.kinds, k) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Suggest returns "did you mean X?" for the candidate nearest to s, if any
// is near enough to be a likely typo.
func Suggest(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := distance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(1, len(s)/3) {
		return ""
	}
	return "did you mean " + best + "?"
}

// distance is the edit distance between a and b, counting a swap of two
// neighbours as one edit, as typing makes them (optimal string alignment).
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// OptionHelp returns one line per option that applies to k (or every
// option when k is ""), for -hh and --explain.
func OptionHelp(k Kind) []string {
	var names []string
	if k == "" {
		for n := range options {
			names = append(names, n)
		}
		sort.Strings(names)
	} else {
		names = optionNames(k)
	}
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%-16s %s", n, options[n].help)
	}
	return out
}
