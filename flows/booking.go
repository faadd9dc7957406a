package flows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Booking a reception in chat (预约接待, issue 14): the resident picks one
// of the next reception days of their station (the station of their last
// case or booking; otherwise, or on 「换站」, they choose one), a time slot
// with places left (a full one is refused with the alternatives), says the
// topic in a sentence, confirms, and is given a booking number. The day
// before, a reminder goes out through the outbox; 「取消预约」 cancels.
// The reception days are the directory's and the duty roster's.

// ReceptionStore is what booking reads and writes (store.DB).
type ReceptionStore interface {
	SlotCounts(ctx context.Context, stationID, day string) (map[string]int, error)
	BookReception(ctx context.Context, nb lianxin.NewBooking) (*lianxin.Booking, bool, error)
	ResidentBookings(ctx context.Context, openid, fromDay string) ([]lianxin.Booking, error)
	CancelBooking(ctx context.Context, openid string, id int64) (*lianxin.Booking, error)
	ResidentStation(ctx context.Context, openid string) (string, error)
}

var receptionTexts = []string{
	"book_none", "book_choose_station", "book_station_line", "book_choose_day", "book_day_line", "book_day_deputies",
	"book_choose_slot", "book_slot_line", "book_slot_full_mark", "book_slot_full", "book_day_full", "book_topic",
	"book_topic_bad", "book_confirm", "book_done", "book_cancelled_draft", "book_already", "book_reminder",
	"book_reminder_title", "book_cancel_none", "book_cancel_choose", "book_cancel_line", "book_cancel_done",
	"book_unavailable", "book_confirm_expected", "reason_received", "reception_reminder", "reception_reminder_everyone", "reception_quota_staff", "reception_quota_staff_title",
}

// bookingDraft is a booking being made (Step "st" station, "d" day, "s"
// slot, "t" topic, "c" confirm) or a cancellation choosing which ("x").
type bookingDraft struct {
	Step    string   `json:"s"`
	Station string   `json:"st,omitempty"`
	Day     string   `json:"d,omitempty"`
	Slot    string   `json:"sl,omitempty"`
	Topic   string   `json:"t,omitempty"`
	Choices []string `json:"ch,omitempty"`
}

var (
	bookWords       = set("预约接待", "预约", "接待预约", "我要预约", "预约代表", "预约接访", "预约见代表", "接待日预约", "坐堂")
	cancelBookWords = set("取消预约", "取消接待", "不去了", "取消预约接待")
	otherStation    = set("换站", "换联络站", "其他联络站", "选其他", "其他")
)

// Reception settings' defaults, as configs/lianxin.yaml ships them.
const (
	defaultSlotMinutes = 60
	defaultCapacity    = 5
	defaultBookAhead   = 45
	defaultOffer       = 3
)

// reminderHour is when the day-before reminder goes out (the stations' time).
const reminderHour = 10

func (e *Engine) reception() (ReceptionStore, lianxin.ReceptionSettings, bool) {
	rs, ok := e.cfg.Store.(ReceptionStore)
	s := e.cfg.Reception
	if s.SlotMinutes <= 0 {
		s.SlotMinutes = defaultSlotMinutes
	}
	if s.Capacity <= 0 {
		s.Capacity = defaultCapacity
	}
	if s.BookAhead <= 0 {
		s.BookAhead = defaultBookAhead
	}
	if s.Offer <= 0 {
		s.Offer = defaultOffer
	}
	return rs, s, ok
}

// bookingTurn handles 预约接待, 取消预约 and the answers of a booking in
// progress; handled is false for anything else.
func (t *turn) bookingTurn() (string, bool, error) {
	if t.m.Kind != lianxin.KindText && t.m.Kind != lianxin.KindVoice {
		return "", false, nil
	}
	rs, set, ok := t.e.reception()
	if !ok {
		return "", false, nil
	}
	raw := strings.TrimSpace(textOf(t.m))
	w := normalizeReply(raw)
	if t.s.Bk != nil && t.stale() {
		t.s.Bk = nil
	}
	if cancelBookWords[w] {
		t.s.Bk = nil
		reply, err := t.cancelBooking(rs, "")
		return reply, true, err
	}
	if t.s.Bk != nil && bookWords[w] {
		t.s.Bk = nil // «预约接待» again mid-booking: start over
	}
	if t.s.Bk != nil {
		return t.bookingStep(rs, set, raw, w)
	}
	if !bookWords[w] {
		return "", false, nil
	}
	reminder := ""
	if t.s.inFlow() && !t.s.Paused {
		reminder = t.short()
	}
	station, err := rs.ResidentStation(t.ctx, t.m.OpenID)
	if err != nil {
		return "", true, err
	}
	if st, ok := t.dir.Station(station); ok && st.Kind == lianxin.PointKind && len(t.receptionDays(station, set)) == 0 {
		station = st.Parent // a point without reception days: its station's
	}
	if _, ok := t.dir.Station(station); !ok || len(t.receptionDays(station, set)) == 0 {
		reply := t.chooseStation(set)
		return join(reply, reminder), true, nil
	}
	reply, err := t.chooseDay(rs, set, station)
	return join(reply, reminder), true, err
}

// receptionDays are the station's reception days residents may book.
func (t *turn) receptionDays(station string, set lianxin.ReceptionSettings) []lianxin.ReceptionDay {
	days := t.dir.ReceptionDays(station, t.now, set.Offer, set.BookAhead, t.e.cfg.Numbering.Location)
	// Today's is booked at the station, not in chat, once it has begun.
	return slices.DeleteFunc(days, func(d lianxin.ReceptionDay) bool { return !d.StartsAt().After(t.now) })
}

// chooseStation asks which station, among those with reception days ahead.
func (t *turn) chooseStation(set lianxin.ReceptionSettings) string {
	var lines, ids []string
	for _, st := range t.dir.Stations {
		days := t.receptionDays(st.ID, set)
		if len(days) == 0 {
			continue
		}
		ids = append(ids, st.ID)
		lines = append(lines, t.txt("book_station_line", "n", itoa(len(ids)), "station", st.Name, "day", t.dayName(days[0])))
	}
	if len(ids) == 0 {
		t.s.Bk = nil
		return t.txt("book_none")
	}
	t.s.Bk = &bookingDraft{Step: "st", Choices: ids}
	return t.txt("book_choose_station", "list", strings.Join(lines, "\n"))
}

// chooseDay offers the station's next reception days.
func (t *turn) chooseDay(rs ReceptionStore, set lianxin.ReceptionSettings, station string) (string, error) {
	days := t.receptionDays(station, set)
	if len(days) == 0 {
		return t.chooseStation(set), nil
	}
	var lines, keys []string
	for i, d := range days {
		line := t.txt("book_day_line", "n", itoa(i+1), "day", t.dayName(d), "hours", t.hours(d))
		if names := t.deputyNames(d); names != "" {
			line += t.txt("book_day_deputies", "deputies", names)
		}
		lines = append(lines, line)
		keys = append(keys, d.Key())
	}
	t.s.Bk = &bookingDraft{Step: "d", Station: station, Choices: keys}
	return t.txt("book_choose_day", "station", t.stationName(station), "list", strings.Join(lines, "\n")), nil
}

// chooseSlot offers the day's slots with the places left; ok is false when
// every slot is full.
func (t *turn) chooseSlot(rs ReceptionStore, set lianxin.ReceptionSettings, d lianxin.ReceptionDay) (string, bool, error) {
	counts, err := rs.SlotCounts(t.ctx, d.StationID, d.Key())
	if err != nil {
		return "", false, err
	}
	var lines, keys []string
	free := 0
	for i, s := range d.Slots(set.SlotMinutes) {
		left := set.Capacity - counts[s.Key()]
		mark := t.txt("book_slot_full_mark")
		if left > 0 {
			free++
			mark = ""
		}
		lines = append(lines, t.txt("book_slot_line", "n", itoa(i+1), "slot", s.String(), "left", itoa(max(left, 0)), "full", mark))
		keys = append(keys, s.Key())
	}
	if free == 0 {
		return "", false, nil
	}
	t.s.Bk = &bookingDraft{Step: "s", Station: d.StationID, Day: d.Key(), Choices: keys}
	return t.txt("book_choose_slot", "day", t.dayName(d), "list", strings.Join(lines, "\n")), true, nil
}

// bookingStep takes the answer to the step waiting.
func (t *turn) bookingStep(rs ReceptionStore, set lianxin.ReceptionSettings, raw, w string) (string, bool, error) {
	bk := t.s.Bk
	if wordsCancel[w] {
		t.s.Bk = nil
		return t.txt("book_cancelled_draft"), true, nil
	}
	if wordsMenu[w] || wordsHelp[w] || wantsProgress(w) || wordsReport[w] || wordsStaff[w] {
		t.s.Bk = nil
		return "", false, nil
	}
	if bk.Step == "st" || bk.Step == "d" || bk.Step == "s" {
		if _, isChoice := choiceNumber(w); !isChoice && !otherStation[w] && t.cl.LooksLikeProblem(raw) {
			// A problem told instead of a choice: the resident's words
			// matter more than the booking; leave it and hear them as a
			// report (预约接待 starts the booking again).
			t.s.Bk = nil
			return "", false, nil
		}
	}
	pick := func() (string, bool) {
		n, ok := choiceNumber(w)
		if !ok || n < 1 || n > len(bk.Choices) {
			return "", false
		}
		return bk.Choices[n-1], true
	}
	switch bk.Step {
	case "st":
		id, ok := pick()
		if !ok {
			return join(t.txt("invalid_choice"), t.chooseStation(set)), true, nil
		}
		reply, err := t.chooseDay(rs, set, id)
		return reply, true, err
	case "d":
		if otherStation[w] {
			return t.chooseStation(set), true, nil
		}
		key, ok := pick()
		if !ok {
			reply, err := t.chooseDay(rs, set, bk.Station)
			return join(t.txt("invalid_choice"), reply), true, err
		}
		d, ok := t.day(bk.Station, key)
		if !ok {
			reply, err := t.chooseDay(rs, set, bk.Station)
			return reply, true, err
		}
		mine, err := rs.ResidentBookings(t.ctx, t.m.OpenID, d.Key())
		if err != nil {
			return "", true, err
		}
		for _, b := range mine {
			if b.Day == d.Key() && b.StationID == d.StationID {
				t.s.Bk = nil
				return t.txt("book_already", "day", t.dayName(d)), true, nil
			}
		}
		reply, ok, err := t.chooseSlot(rs, set, d)
		if err != nil || ok {
			return reply, true, err
		}
		again, err := t.chooseDay(rs, set, bk.Station)
		return join(t.txt("book_day_full", "day", t.dayName(d)), again), true, err
	case "s":
		d, ok := t.day(bk.Station, bk.Day)
		if !ok {
			reply, err := t.chooseDay(rs, set, bk.Station)
			return reply, true, err
		}
		key, ok := pick()
		if !ok {
			reply, _, err := t.chooseSlot(rs, set, d)
			return join(t.txt("invalid_choice"), reply), true, err
		}
		counts, err := rs.SlotCounts(t.ctx, bk.Station, bk.Day)
		if err != nil {
			return "", true, err
		}
		if counts[key] >= set.Capacity {
			reply, err := t.slotFull(rs, set, d, key)
			return reply, true, err
		}
		t.s.Bk = &bookingDraft{Step: "t", Station: bk.Station, Day: bk.Day, Slot: key}
		return t.txt("book_topic", "slot", lianxin.SlotFromKey(key).String()), true, nil
	case "t":
		if n := runeLen(raw); n < 4 || n > 200 {
			return t.txt("book_topic_bad"), true, nil
		}
		bk.Topic, bk.Step = oneLine(raw), "c"
		d, _ := t.day(bk.Station, bk.Day)
		return t.txt("book_confirm", "station", t.stationName(bk.Station), "day", t.dayName(d),
			"slot", lianxin.SlotFromKey(bk.Slot).String(), "topic", bk.Topic), true, nil
	case "c":
		if !wordsYes[w] {
			return t.txt("book_confirm_expected"), true, nil
		}
		reply, err := t.book(rs, set, bk)
		return reply, true, err
	case "x":
		reply, err := t.cancelBooking(rs, w)
		return reply, true, err
	}
	t.s.Bk = nil
	return "", false, nil
}

// slotFull refuses a full slot with the alternatives: the day's other
// slots with places, else the next days.
func (t *turn) slotFull(rs ReceptionStore, set lianxin.ReceptionSettings, d lianxin.ReceptionDay, key string) (string, error) {
	full := t.txt("book_slot_full", "slot", lianxin.SlotFromKey(key).String())
	if reply, ok, err := t.chooseSlot(rs, set, d); err != nil || ok {
		return join(full, reply), err
	}
	reply, err := t.chooseDay(rs, set, d.StationID)
	return join(full, t.txt("book_day_full", "day", t.dayName(d)), reply), err
}

// book records the booking with its reminder the day before.
func (t *turn) book(rs ReceptionStore, set lianxin.ReceptionSettings, bk *bookingDraft) (string, error) {
	d, ok := t.day(bk.Station, bk.Day)
	if !ok {
		t.s.Bk = nil
		return t.txt("book_unavailable"), nil
	}
	loc := t.e.cfg.Numbering.Location
	slot := lianxin.SlotFromKey(bk.Slot)
	st, _ := t.dir.Station(bk.Station)
	nb := lianxin.NewBooking{Booking: lianxin.Booking{Kind: lianxin.BookingKindBooked, StationID: bk.Station, Day: bk.Day, Slot: bk.Slot,
		OpenID: t.m.OpenID, Topic: bk.Topic, SourceKey: "booking:" + t.m.Account + ":" + t.m.Key(), CreatedBy: "resident"},
		Capacity: set.Capacity, Tag: lianxin.StationTag(bk.Station)}
	remindAt := time.Date(d.Day.Year(), d.Day.Month(), d.Day.Day()-1, reminderHour, 0, 0, 0, loc)
	if remindAt.After(t.now.Add(time.Hour)) {
		text := t.txt("book_reminder", "station", st.Name, "day", t.dayName(d), "slot", slot.String(), "address", st.Address, "topic", bk.Topic)
		n := t.e.notice("", t.m.OpenID, text, t.txt("book_reminder_title"), nil, "", t.cats, t.dir)
		n.Delay = remindAt.Sub(t.now)
		nb.Reminder = &n
	}
	t.st.wrote = true
	b, _, err := rs.BookReception(t.ctx, nb)
	switch {
	case errors.Is(err, lianxin.ErrSlotFull):
		reply, err := t.slotFull(rs, set, d, bk.Slot)
		return reply, err
	case errors.Is(err, lianxin.ErrAlreadyBooked):
		t.s.Bk = nil
		return t.txt("book_already", "day", t.dayName(d)), nil
	case err != nil:
		return "", err
	}
	t.s.Bk = nil
	return t.txt("book_done", "number", b.Number(), "station", st.Name, "day", t.dayName(d), "slot", slot.String(),
		"address", st.Address, "topic", b.Topic), nil
}

// cancelBooking cancels the resident's booking: the only one at once, or
// the one chosen (answer, a number) when they have several.
func (t *turn) cancelBooking(rs ReceptionStore, answer string) (string, error) {
	loc := t.e.cfg.Numbering.Location
	mine, err := rs.ResidentBookings(t.ctx, t.m.OpenID, t.now.In(loc).Format(lianxin.DayLayout))
	if err != nil {
		return "", err
	}
	if len(mine) == 0 {
		t.s.Bk = nil
		return t.txt("book_cancel_none"), nil
	}
	var chosen *lianxin.Booking
	switch {
	case len(mine) == 1:
		chosen = &mine[0]
	case answer != "":
		if n, ok := choiceNumber(answer); ok && n >= 1 && n <= len(mine) {
			chosen = &mine[n-1]
		} else if id, ok := lianxin.ParseBookingNumber(answer); ok {
			for i := range mine {
				if mine[i].ID == id {
					chosen = &mine[i]
				}
			}
		}
	}
	if chosen == nil {
		var lines []string
		for i, b := range mine {
			lines = append(lines, t.txt("book_cancel_line", "n", itoa(i+1), "number", b.Number(), "station", t.stationName(b.StationID),
				"day", t.dayKeyName(b.Day), "slot", lianxin.SlotFromKey(b.Slot).String()))
		}
		t.s.Bk = &bookingDraft{Step: "x"}
		return t.txt("book_cancel_choose", "list", strings.Join(lines, "\n")), nil
	}
	t.s.Bk = nil
	t.st.wrote = true
	if _, err := rs.CancelBooking(t.ctx, t.m.OpenID, chosen.ID); err != nil {
		return "", err
	}
	return t.txt("book_cancel_done", "number", chosen.Number(), "day", t.dayKeyName(chosen.Day),
		"slot", lianxin.SlotFromKey(chosen.Slot).String()), nil
}

// day is the station's reception on the day written key, if it still is one.
func (t *turn) day(station, key string) (lianxin.ReceptionDay, bool) {
	loc := t.e.cfg.Numbering.Location
	day, err := time.ParseInLocation(lianxin.DayLayout, key, loc)
	if err != nil {
		return lianxin.ReceptionDay{}, false
	}
	return t.dir.ReceptionOn(station, day, loc)
}

var weekdayZh = [7]string{"日", "一", "二", "三", "四", "五", "六"}

// dayName is a reception day as residents read it: 12月15日（周二）.
func (t *turn) dayName(d lianxin.ReceptionDay) string {
	return d.Day.Format("1月2日") + "（周" + weekdayZh[d.Day.Weekday()] + "）"
}

func (t *turn) dayKeyName(key string) string {
	day, err := time.ParseInLocation(lianxin.DayLayout, key, t.e.cfg.Numbering.Location)
	if err != nil {
		return key
	}
	return t.dayName(lianxin.ReceptionDay{Day: day})
}

func (t *turn) hours(d lianxin.ReceptionDay) string {
	return lianxin.Slot{Start: d.Start, End: d.End}.String()
}

// deputyNames are the deputies on duty that day, by name ("" : the
// station's deputies in turn, not named).
func (t *turn) deputyNames(d lianxin.ReceptionDay) string {
	var names []string
	for _, id := range d.DeputyIDs {
		if p, ok := t.dir.Deputy(id); ok {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, "、")
}

// ReceptionReminder is the text of a reception day's reminder to its
// station's residents (the mass send a few days before).
func (e *Engine) ReceptionReminder(d lianxin.ReceptionDay) string {
	snap := e.dir.Load()
	st, _ := snap.dir.Station(d.StationID)
	t := &turn{e: e, dir: snap.dir}
	who := t.deputyNames(d)
	if who == "" {
		who = e.texts.Get("reception_reminder_everyone")
	}
	return e.texts.Get("reception_reminder", "station", st.Name, "day", t.dayName(d), "hours", t.hours(d), "deputies", who, "address", st.Address)
}

// ReceptionQuotaNotices tell the station's staff (their WeChat, as the
// directory lists it) that its reception day could not be reminded: the
// month's mass sends are used up.
func (e *Engine) ReceptionQuotaNotices(d lianxin.ReceptionDay, quota int) []lianxin.Notice {
	snap := e.dir.Load()
	staff, _, ok := snap.dir.StaffFor(d.StationID)
	if !ok {
		return nil
	}
	st, _ := snap.dir.Station(d.StationID)
	t := &turn{e: e, dir: snap.dir}
	text := e.texts.Get("reception_quota_staff", "station", st.Name, "day", t.dayName(d), "quota", itoa(quota))
	var out []lianxin.Notice
	for _, openid := range staff.OpenIDs {
		out = append(out, e.notice("reception:quota:"+d.StationID+":"+d.Key()+":"+openid, openid, text,
			e.texts.Get("reception_quota_staff_title"), nil, "", snap.cats, snap.dir))
	}
	return out
}
