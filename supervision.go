package lianxin

// Supervision marks (督办): each reminder and overdue notice is sent once per
// deadline, whichever process gets there first. The store records each as a
// timestamp on the case.
const (
	MarkAcceptReminded  = "accept_reminded_at"
	MarkAcceptOverdue   = "accept_overdue_at"
	MarkResolveReminded = "resolve_reminded_at"
	MarkResolveOverdue  = "resolve_overdue_at"
)

// SupervisedCase is an open case with its supervision marks.
type SupervisedCase struct {
	Case
	AcceptReminded, AcceptOverdue, ResolveReminded, ResolveOverdue bool
}
