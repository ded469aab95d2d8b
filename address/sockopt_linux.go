package address

import "golang.org/x/sys/unix"

// sockopts are socat's options that set one int socket option, by
// socat's name. Each applies before bind or connect (socat's PREBIND and
// PASTSOCKET phases); Linux passes them from a listening socket to the
// sockets it accepts.
var sockopts = map[string]sockoptEntry{
	"so-debug": {Sockopt{unix.SOL_SOCKET, unix.SO_DEBUG}, socketKinds}, "so-dontroute": {Sockopt{unix.SOL_SOCKET, unix.SO_DONTROUTE}, socketKinds},
	"so-broadcast": {Sockopt{unix.SOL_SOCKET, unix.SO_BROADCAST}, socketKinds}, "so-oobinline": {Sockopt{unix.SOL_SOCKET, unix.SO_OOBINLINE}, socketKinds},
	"so-passcred": {Sockopt{unix.SOL_SOCKET, unix.SO_PASSCRED}, socketKinds}, "so-priority": {Sockopt{unix.SOL_SOCKET, unix.SO_PRIORITY}, socketKinds},
	"so-rcvlowat": {Sockopt{unix.SOL_SOCKET, unix.SO_RCVLOWAT}, socketKinds}, "so-sndlowat": {Sockopt{unix.SOL_SOCKET, unix.SO_SNDLOWAT}, socketKinds},
	"so-timestamp": {Sockopt{unix.SOL_SOCKET, unix.SO_TIMESTAMP}, socketKinds}, "so-no-check": {Sockopt{unix.SOL_SOCKET, unix.SO_NO_CHECK}, socketKinds},
	"so-rcvbuf-late": {Sockopt{unix.SOL_SOCKET, unix.SO_RCVBUF}, socketKinds}, "so-sndbuf-late": {Sockopt{unix.SOL_SOCKET, unix.SO_SNDBUF}, socketKinds},
	"so-bsdcompat": {Sockopt{unix.SOL_SOCKET, unix.SO_BSDCOMPAT}, socketKinds},
	"ip-tos":       {Sockopt{unix.IPPROTO_IP, unix.IP_TOS}, ipKinds}, "ip-ttl": {Sockopt{unix.IPPROTO_IP, unix.IP_TTL}, ipKinds},
	"ip-freebind": {Sockopt{unix.IPPROTO_IP, unix.IP_FREEBIND}, ipKinds}, "ip-hdrincl": {Sockopt{unix.IPPROTO_IP, unix.IP_HDRINCL}, ipKinds},
	"ip-mtu-discover":   {Sockopt{unix.IPPROTO_IP, unix.IP_MTU_DISCOVER}, ipKinds},
	"ip-multicast-loop": {Sockopt{unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP}, ipKinds},
	"ip-multicast-ttl":  {Sockopt{unix.IPPROTO_IP, unix.IP_MULTICAST_TTL}, ipKinds},
	"ip-pktinfo":        {Sockopt{unix.IPPROTO_IP, unix.IP_PKTINFO}, ipKinds}, "ip-recverr": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVERR}, ipKinds},
	"ip-recvopts": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVOPTS}, ipKinds}, "ip-recvtos": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVTOS}, ipKinds},
	"ip-recvttl": {Sockopt{unix.IPPROTO_IP, unix.IP_RECVTTL}, ipKinds}, "ip-retopts": {Sockopt{unix.IPPROTO_IP, unix.IP_RETOPTS}, ipKinds},
	"ip-router-alert": {Sockopt{unix.IPPROTO_IP, unix.IP_ROUTER_ALERT}, ipKinds},
	"ip-transparent":  {Sockopt{unix.IPPROTO_IP, unix.IP_TRANSPARENT}, ipKinds},
	"ipv6-v6only":     {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_V6ONLY}, ipKinds}, "ipv6-unicast-hops": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS}, ipKinds},
	"ipv6-tclass": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_TCLASS}, ipKinds}, "ipv6-recvpktinfo": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO}, ipKinds},
	"ipv6-recvhoplimit": {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT}, ipKinds},
	"ipv6-recvtclass":   {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS}, ipKinds},
	"ipv6-recverr":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVERR}, ipKinds},
	"ipv6-recvrthdr":    {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVRTHDR}, ipKinds},
	"ipv6-recvhopopts":  {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS}, ipKinds},
	"ipv6-recvdstopts":  {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVDSTOPTS}, ipKinds},
	"ipv6-recvpathmtu":  {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_RECVPATHMTU}, ipKinds},
	"ipv6-pktinfo":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292PKTINFO}, ipKinds},
	"ipv6-hoplimit":     {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292HOPLIMIT}, ipKinds},
	"ipv6-rthdr":        {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292RTHDR}, ipKinds},
	"ipv6-hopopts":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292HOPOPTS}, ipKinds},
	"ipv6-dstopts":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_2292DSTOPTS}, ipKinds},
	"ipv6-authhdr":      {Sockopt{unix.IPPROTO_IPV6, unix.IPV6_AUTHHDR}, ipKinds},
	"tcp-cork":          {Sockopt{unix.IPPROTO_TCP, unix.TCP_CORK}, tcpKinds}, "tcp-defer-accept": {Sockopt{unix.IPPROTO_TCP, unix.TCP_DEFER_ACCEPT}, tcpKinds},
	"tcp-keepcnt": {Sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPCNT}, tcpKinds}, "tcp-keepidle": {Sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPIDLE}, tcpKinds},
	"tcp-keepintvl": {Sockopt{unix.IPPROTO_TCP, unix.TCP_KEEPINTVL}, tcpKinds}, "tcp-linger2": {Sockopt{unix.IPPROTO_TCP, unix.TCP_LINGER2}, tcpKinds},
	"tcp-maxseg": {Sockopt{unix.IPPROTO_TCP, unix.TCP_MAXSEG}, tcpKinds}, "tcp-maxseg-late": {Sockopt{unix.IPPROTO_TCP, unix.TCP_MAXSEG}, tcpKinds},
	"tcp-quickack": {Sockopt{unix.IPPROTO_TCP, unix.TCP_QUICKACK}, tcpKinds}, "tcp-syncnt": {Sockopt{unix.IPPROTO_TCP, unix.TCP_SYNCNT}, tcpKinds},
	"tcp-window-clamp": {Sockopt{unix.IPPROTO_TCP, unix.TCP_WINDOW_CLAMP}, tcpKinds},
}
