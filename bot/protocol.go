package bot

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/lianxin/lianxin"
)

var (
	errMissingField = errors.New("required field missing")
	errBadNumber    = errors.New("a number field is not a number, or not a place on earth")
)

// inboundFromXML maps parsed WeChat fields to the domain message.
func inboundFromXML(fields []xmlField) (*lianxin.Inbound, error) {
	m := &lianxin.Inbound{}
	var err error
	num := func(s string) int64 {
		n, e := strconv.ParseInt(s, 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("%w: %q", errBadNumber, s)
		}
		return n
	}
	// Coordinates: ParseFloat also reads NaN and Inf, which are no place
	// (and which no JSON, so no Redis or journal, can carry).
	coord := func(s string, limit float64) float64 {
		f, e := strconv.ParseFloat(s, 64)
		if (e != nil || math.IsNaN(f) || f < -limit || f > limit) && err == nil {
			err = fmt.Errorf("%w: %q", errBadNumber, s)
		}
		return f
	}
	var recognition, content string
	for _, f := range fields {
		switch f.name {
		case "ToUserName":
			m.Account = f.value
		case "FromUserName":
			m.OpenID = f.value
		case "CreateTime":
			m.CreateTime = num(f.value)
		case "MsgType":
			m.Kind = lianxin.MsgKind(f.value)
		case "MsgId":
			if f.value != "" {
				m.MsgID = num(f.value)
			}
		case "Content":
			content = f.value
		case "Recognition":
			recognition = f.value
		case "PicUrl":
			m.PicURL = f.value
		case "MediaId":
			m.MediaID = f.value
		case "Format":
			m.Format = f.value
		case "Location_X", "Latitude":
			if f.value != "" {
				m.Lat = coord(f.value, 90)
			}
		case "Location_Y", "Longitude":
			if f.value != "" {
				m.Lng = coord(f.value, 180)
			}
		case "Label":
			m.Label = f.value
		case "Title":
			m.Title = f.value
		case "Url":
			m.URL = f.value
		case "Event":
			m.Event = f.value
		case "EventKey":
			m.EventKey = f.value
		}
	}
	if err != nil {
		return nil, err
	}
	if m.OpenID == "" || m.Account == "" || m.Kind == "" || m.CreateTime == 0 {
		return nil, errMissingField
	}
	if m.Kind == lianxin.KindVoice {
		m.Text = recognition
	} else {
		m.Text = content
	}
	if m.Kind == lianxin.KindEvent && m.Event == "" {
		return nil, errMissingField
	}
	return m, nil
}

// findField returns the value of the named field.
func findField(fields []xmlField, name string) (string, bool) {
	for _, f := range fields {
		if f.name == name {
			return f.value, true
		}
	}
	return "", false
}
