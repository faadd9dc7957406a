package lianxin

import (
	"slices"
	"time"
)

// Roles of console users. A role fixes what a user may see (Scope) and do.
const (
	RoleAdmin  = "admin"  // 区人大常委会 office: every station, users and the directory
	RoleStaff  = "staff"  // 联络站工作人员: one station and its points
	RoleDeputy = "deputy" // a deputy: their own cases; a station head also the station's
)

// Roles lists the roles in the order the CLI and the console show them.
var Roles = []string{RoleAdmin, RoleStaff, RoleDeputy}

// User is a console account. Deputies who open the console from WeChat get
// one without a password (web authorisation identifies them).
type User struct {
	ID        int64     `json:"id" db:"id"`
	Username  string    `json:"username" db:"username"`
	Role      string    `json:"role" db:"role"`
	StationID string    `json:"station_id,omitempty" db:"station_id"`
	DeputyID  string    `json:"deputy_id,omitempty" db:"deputy_id"`
	Disabled  bool      `json:"disabled" db:"disabled"`
	CreatedAt time.Time `json:"created_at" db:"created_at"`
}

// Ref is how the user appears as an actor on timelines and in the audit log.
func (u *User) Ref() string { return "user:" + u.Username }

// Scope is the set of cases a user may see and act on. It is passed to
// every store query the console makes, which applies it as a filter, so a
// page, an action, a photo or an export cannot forget it. The zero Scope
// sees nothing.
type Scope struct {
	// All: every case (admins).
	All bool
	// Units: cases routed to any of these stations or points (staff: their
	// station and its points; a station head: the same).
	Units []string
	// DeputyID: cases assigned to this deputy, wherever they are.
	DeputyID string
}

// Allows reports whether a case routed to unitID and assigned to assignee
// is within the scope. Store queries express the same rule in SQL.
func (s Scope) Allows(unitID, assignee string) bool {
	return s.All || (unitID != "" && slices.Contains(s.Units, unitID)) || (s.DeputyID != "" && assignee == s.DeputyID)
}

// Unit returns the units a station covers: the station and its points.
func (d *Directory) Unit(stationID string) []string {
	st, ok := d.StationOf(stationID)
	if !ok {
		return []string{stationID}
	}
	units := []string{st.ID}
	for _, p := range d.Points(st.ID) {
		units = append(units, p.ID)
	}
	return units
}

// ScopeOf is what a user may see under the directory: admins everything,
// staff their station and its points, a deputy their own cases and, when
// they head a station (or a point), that unit's cases as well. A disabled
// user, or one whose station or deputy is not in the directory, sees
// nothing beyond what the remaining fields grant.
func (d *Directory) ScopeOf(u User) Scope {
	if u.Disabled {
		return Scope{}
	}
	switch u.Role {
	case RoleAdmin:
		return Scope{All: true}
	case RoleStaff:
		if u.StationID == "" {
			return Scope{}
		}
		return Scope{Units: d.Unit(u.StationID)}
	case RoleDeputy:
		s := Scope{DeputyID: u.DeputyID}
		if dep, ok := d.Deputy(u.DeputyID); ok && dep.Head {
			if unit, ok := d.Station(dep.StationID); ok && unit.Kind == PointKind {
				s.Units = []string{unit.ID}
			} else {
				s.Units = d.Unit(dep.StationID)
			}
		}
		return s
	}
	return Scope{}
}

// AuditEntry is one line of the audit log: a staff action or a view of
// something sensitive (a resident's full phone number), written in the same
// transaction as what it records.
type AuditEntry struct {
	ID      int64     `json:"id" db:"id"`
	At      time.Time `json:"at" db:"at"`
	Actor   string    `json:"actor" db:"actor"`     // user:NAME, or cli:NAME for the operator CLI
	Action  string    `json:"action" db:"action"`   // what was done (Audit* constants)
	Subject string    `json:"subject" db:"subject"` // what it was done to: a case number, user, deputy, outbox row
	Detail  string    `json:"detail" db:"detail"`   // the words typed, or what changed
	Addr    string    `json:"addr,omitempty" db:"addr"`
}

// Audit actions besides the case verbs (which are audited under their verb).
const (
	AuditLogin        = "login"
	AuditLoginWeChat  = "login_wechat"
	AuditLogout       = "logout"
	AuditViewPhone    = "view_phone"
	AuditUserAdd      = "user_add"
	AuditUserDisable  = "user_disable"
	AuditUserPassword = "user_password"
	AuditDirectory    = "directory_edit"
	AuditOutboxRetry  = "outbox_retry"
	AuditTemplate     = "template_edit"
	AuditInvite       = "deputy_invite"
	AuditUnbind       = "deputy_unbind"
	AuditDeactivate   = "deputy_deactivate"
	AuditViewHidden   = "view_hidden_photo"
)

// Session is a signed-in console session, stored so several serve
// processes share it.
type Session struct {
	User     User
	ID       string // the hash of the cookie's token, never the token
	Created  time.Time
	LastSeen time.Time
}

// AuditFilter selects audit log entries for the admins' page.
type AuditFilter struct {
	Actor, Subject, Action string
	Before                 int64 // entries older than this id (paging)
	Limit                  int
}
