//go:build unix

package cli

import "log/syslog"

// facilities are syslog's facility names, as -ly and -lm take them.
var facilities = map[string]syslog.Priority{
	"": syslog.LOG_DAEMON, "daemon": syslog.LOG_DAEMON, "user": syslog.LOG_USER, "auth": syslog.LOG_AUTH,
	"authpriv": syslog.LOG_AUTHPRIV, "cron": syslog.LOG_CRON, "kern": syslog.LOG_KERN, "lpr": syslog.LOG_LPR,
	"mail": syslog.LOG_MAIL, "news": syslog.LOG_NEWS, "syslog": syslog.LOG_SYSLOG, "uucp": syslog.LOG_UUCP,
	"ftp": syslog.LOG_FTP, "local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1, "local2": syslog.LOG_LOCAL2,
	"local3": syslog.LOG_LOCAL3, "local4": syslog.LOG_LOCAL4, "local5": syslog.LOG_LOCAL5,
	"local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

// openSyslog connects to the system log under facility (known is false
// for a name syslog has not).
func openSyslog(facility, prog string) (w sysLog, known bool, err error) {
	fac, ok := facilities[facility]
	if !ok {
		return nil, false, nil
	}
	sw, err := syslog.New(fac|syslog.LOG_INFO, prog)
	if err != nil {
		return nil, true, err
	}
	return sw, true, nil
}
