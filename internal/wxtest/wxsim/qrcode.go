package wxsim

// Scans of parametric QR codes, as WeChat pushes them: a user who does
// not follow the account yet follows it by scanning (subscribe, EventKey
// qrscene_SCENE); a follower's scan is SCAN with the bare scene.

// ScanSubscribe is a new follower who followed by scanning scene's code.
func ScanSubscribe(from, scene string) Message {
	return Event(from, "subscribe", "qrscene_"+scene)
}

// Scan is a follower scanning scene's code.
func Scan(from, scene string) Message {
	return Event(from, "SCAN", scene)
}
