package cli

import "errors"

// openSyslog: Windows has no syslog; the messages stay on stderr.
func openSyslog(string, string) (sysLog, bool, error) {
	return nil, true, errors.New("no syslog on Windows")
}
