package endpoint

// Phases of the process options: socat applies chroot, setgid, setuid
// and substuser before the address is opened (-early), once it is open
// (the plain names: a listener has bound its port), or when the transfer
// starts (substuser-delayed).
const (
	PhaseEarly   = "early"
	PhaseOpened  = "opened"
	PhaseDelayed = "delayed"
)

// processOptions maps each phase to its options: chroot, setgid, setuid,
// substuser, applied in that order.
var processOptions = map[string][4]string{
	PhaseEarly:   {"chroot-early", "setgid-early", "setuid-early", "substuser-early"},
	PhaseOpened:  {"chroot", "setgid", "setuid", "substuser"},
	PhaseDelayed: {"", "", "", "substuser-delayed"},
}
