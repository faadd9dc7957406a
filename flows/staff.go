package flows

// staffTexts are the texts of the staff queue and the operators' tools,
// required like requiredTexts.
var staffTexts = []string{
	"label_status_registered", "label_status_accepted", "label_status_forwarded", "label_status_resolved",
	"label_status_reopened", "label_status_cancelled", "label_status_open",
}
