// Package open311 is lianxin's Open311 GeoReport v2 endpoint, served by
// `serve` under /open311/v2/: a 12345 hotline, a web form or another city
// system files into the same register as chat, and anyone reads the
// public view of requests. Service discovery, the service list (the
// categories), a service's definition, POST requests (an API key per
// client, whose name becomes the case's source) and GET requests, in JSON
// and XML, with GeoReport's error format.
//
// A request filed here is a case like any other: routed by its location,
// assigned, supervised against its category's deadlines and counted; the
// deputy's answer is its status_notes. The public view holds no personal
// data (no description, contact or address) and no private case.
package open311

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lianxin/lianxin"
)

// Prefix is where the endpoint is mounted.
const Prefix = "/open311/v2/"

// Keys are the clients' API keys (store.DB).
type Keys interface {
	// Open311Client is the live client of a key; EUNAUTHORIZED otherwise.
	Open311Client(ctx context.Context, key string) (lianxin.Open311Client, error)
}

// Cases are the register's reads (store.DB).
type Cases interface {
	Case(ctx context.Context, number string) (*lianxin.Case, error)
	Cases(ctx context.Context, f lianxin.CaseFilter) ([]lianxin.Case, error)
}

// Filer registers a request as a case by the rules chat cases follow
// (flows.Engine): routed, assigned, deadlines set, notices queued.
type Filer interface {
	Register(ctx context.Context, r lianxin.Report, actor lianxin.User, addr string) (*lianxin.Case, error)
	Directory() (*lianxin.Directory, lianxin.Categories)
}

// Config is what the endpoint needs.
type Config struct {
	Keys  Keys
	Cases Cases
	Filer Filer
	// PublicURL is the service's address (discovery names the endpoint
	// under it); "" uses the request's host.
	PublicURL string
	// Contact is what discovery says to reach the operator by.
	Contact string
	// RatePerMinute bounds each key's POSTs (default 30); past it the
	// client gets 429 until the minute is over.
	RatePerMinute int
	Location      *time.Location
	Now           func() time.Time
	Log           *slog.Logger
}

// Handler serves /open311/v2/.
type Handler struct {
	cfg Config
	mux *http.ServeMux

	mu      sync.Mutex
	windows map[int64]*window // per client: POSTs in the current minute
}

type window struct {
	start time.Time
	n     int
}

// New returns the endpoint.
func New(cfg Config) *Handler {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.RatePerMinute <= 0 {
		cfg.RatePerMinute = 30
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	h := &Handler{cfg: cfg, mux: http.NewServeMux(), windows: map[int64]*window{}}
	h.mux.HandleFunc("GET "+Prefix+"{file}", h.serveTop)
	h.mux.HandleFunc("POST "+Prefix+"{file}", h.servePost)
	h.mux.HandleFunc("GET "+Prefix+"services/{file}", h.serveService)
	h.mux.HandleFunc("GET "+Prefix+"requests/{file}", h.serveRequest)
	h.mux.HandleFunc(Prefix, func(w http.ResponseWriter, r *http.Request) {
		h.fail(w, r, "json", http.StatusNotFound, "no such resource: see "+Prefix+"discovery.json")
	})
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*") // a public API read by other cities' pages
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// split reads "name.json" / "name.xml" / "name" (JSON).
func split(file string) (name, format string, ok bool) {
	name, ext, found := strings.Cut(file, ".")
	switch {
	case !found:
		return name, "json", true
	case ext == "json" || ext == "xml":
		return name, ext, true
	}
	return name, ext, false
}

// apiError is GeoReport's error: [{"code":400,"description":"..."}].
type apiError struct {
	XMLName     xml.Name `json:"-" xml:"error"`
	Code        int      `json:"code" xml:"code"`
	Description string   `json:"description" xml:"description"`
}

type xmlErrors struct {
	XMLName xml.Name   `xml:"errors"`
	Errors  []apiError `xml:"error"`
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, format string, status int, desc string) {
	if status >= 500 {
		h.cfg.Log.Error("open311 request failed", "path", r.URL.Path, "err", desc)
		desc = "internal error"
	}
	e := apiError{Code: status, Description: desc}
	if format == "xml" {
		h.write(w, "xml", status, xmlErrors{Errors: []apiError{e}})
		return
	}
	h.write(w, "json", status, []apiError{e})
}

// failErr maps an error to GeoReport's format by its lianxin code.
func (h *Handler) failErr(w http.ResponseWriter, r *http.Request, format string, err error) {
	status := lianxin.ErrorStatus(err)
	desc := lianxin.ErrorMessage(err)
	if status >= 500 {
		desc = err.Error()
	}
	h.fail(w, r, format, status, desc)
}

func (h *Handler) write(w http.ResponseWriter, format string, status int, v any) {
	var b []byte
	var err error
	if format == "xml" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		b, err = xml.MarshalIndent(v, "", "  ")
		b = append([]byte(xml.Header), b...)
	} else {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		b, err = json.Marshal(v)
	}
	if err != nil {
		h.cfg.Log.Error("open311: encoding the answer failed", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	w.Write(b)
}

// Discovery.

type discovery struct {
	XMLName    xml.Name   `json:"-" xml:"discovery"`
	Changeset  string     `json:"changeset" xml:"changeset"`
	Contact    string     `json:"contact" xml:"contact"`
	KeyService string     `json:"key_service" xml:"key_service"`
	Endpoints  []endpoint `json:"endpoints" xml:"endpoints>endpoint"`
}

type endpoint struct {
	Specification string   `json:"specification" xml:"specification"`
	URL           string   `json:"url" xml:"url"`
	Changeset     string   `json:"changeset" xml:"changeset"`
	Type          string   `json:"type" xml:"type"`
	Formats       []string `json:"formats" xml:"formats>format"`
}

// changeset is when the API last changed (GeoReport wants a date).
const changeset = "2026-12-01T00:00:00Z"

func (h *Handler) serveTop(w http.ResponseWriter, r *http.Request) {
	name, format, ok := split(r.PathValue("file"))
	if !ok {
		h.fail(w, r, "json", http.StatusNotFound, "formats are json and xml")
		return
	}
	switch name {
	case "discovery":
		base := h.cfg.PublicURL
		if base == "" {
			scheme := "http"
			if r.TLS != nil {
				scheme = "https"
			}
			base = scheme + "://" + r.Host
		}
		h.write(w, format, http.StatusOK, discovery{Changeset: changeset, Contact: h.cfg.Contact,
			KeyService: "API keys are issued by the district's administrators (lianxin open311 key add NAME)",
			Endpoints: []endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2", URL: base + strings.TrimSuffix(Prefix, "/"),
				Changeset: changeset, Type: "production", Formats: []string{"application/json", "text/xml"}}}})
	case "services":
		h.serveServices(w, format)
	case "requests":
		h.serveRequests(w, r, format)
	default:
		h.fail(w, r, format, http.StatusNotFound, "no such resource: "+name)
	}
}

// Services: the categories.

type service struct {
	XMLName     xml.Name `json:"-" xml:"service"`
	Code        string   `json:"service_code" xml:"service_code"`
	Name        string   `json:"service_name" xml:"service_name"`
	Description string   `json:"description" xml:"description"`
	Metadata    bool     `json:"metadata" xml:"metadata"`
	Type        string   `json:"type" xml:"type"`
	Keywords    string   `json:"keywords" xml:"keywords"`
	Group       string   `json:"group" xml:"group"`
}

type xmlServices struct {
	XMLName  xml.Name  `xml:"services"`
	Services []service `xml:"service"`
}

func (h *Handler) services() []service {
	_, cats := h.cfg.Filer.Directory()
	out := []service{}
	for _, c := range cats {
		desc := c.Name
		if c.ResolveDays > 0 {
			desc = fmt.Sprintf("%s（%d天内办结）", c.Name, c.ResolveDays)
		}
		out = append(out, service{Code: c.Key, Name: c.Name, Description: desc, Type: "realtime",
			Keywords: strings.Join(c.Keywords, ","), Group: "群众反映"})
	}
	return out
}

func (h *Handler) serveServices(w http.ResponseWriter, format string) {
	if format == "xml" {
		h.write(w, format, http.StatusOK, xmlServices{Services: h.services()})
		return
	}
	h.write(w, format, http.StatusOK, h.services())
}

type serviceDefinition struct {
	XMLName    xml.Name `json:"-" xml:"service_definition"`
	Code       string   `json:"service_code" xml:"service_code"`
	Attributes []string `json:"attributes" xml:"attributes>attribute"`
}

func (h *Handler) serveService(w http.ResponseWriter, r *http.Request) {
	code, format, ok := split(r.PathValue("file"))
	if !ok {
		h.fail(w, r, "json", http.StatusNotFound, "formats are json and xml")
		return
	}
	_, cats := h.cfg.Filer.Directory()
	if _, found := cats.ByKey(code); !found {
		h.fail(w, r, format, http.StatusNotFound, "no service_code "+code+" (see services.json)")
		return
	}
	// No service has extra attributes (metadata false): the definition is empty.
	h.write(w, format, http.StatusOK, serviceDefinition{Code: code, Attributes: []string{}})
}

// Requests.

// request is a service request's public view: no personal data.
type request struct {
	XMLName           xml.Name `json:"-" xml:"request"`
	ID                string   `json:"service_request_id" xml:"service_request_id"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceName       string   `json:"service_name" xml:"service_name"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	ServiceNotice     string   `json:"service_notice" xml:"service_notice"`
	Requested         string   `json:"requested_datetime" xml:"requested_datetime"`
	Updated           string   `json:"updated_datetime" xml:"updated_datetime"`
	Expected          string   `json:"expected_datetime" xml:"expected_datetime"`
	Lat               *float64 `json:"lat" xml:"lat,omitempty"`
	Long              *float64 `json:"long" xml:"long,omitempty"`
}

type xmlRequests struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []request `xml:"request"`
}

// closedStatus: what is no longer open reads closed.
func closedStatus(s lianxin.Status) bool { return !slices.Contains(lianxin.OpenStatuses, s) }

// answerEvents are the timeline entries whose text answers the resident.
var answerEvents = []string{lianxin.EventAnswered, lianxin.EventStaffAnswered, lianxin.EventResolved, lianxin.EventProgress, lianxin.EventForwarded}

func (h *Handler) view(c *lianxin.Case) request {
	dir, cats := h.cfg.Filer.Directory()
	cat, _ := cats.ByKey(c.CategoryKey)
	v := request{ID: c.Number, Status: "open", ServiceName: cat.Name, ServiceCode: c.CategoryKey,
		Requested: h.ts(c.CreatedAt), Updated: h.ts(c.UpdatedAt)}
	if closedStatus(c.Status) {
		v.Status = "closed"
	}
	if st, ok := dir.Station(c.StationID); ok {
		v.AgencyResponsible = st.Name
	}
	if c.ResolveDue != nil && !closedStatus(c.Status) {
		v.Expected = h.ts(*c.ResolveDue)
	}
	// The latest word to the resident is the notes.
	for i := len(c.Events) - 1; i >= 0; i-- {
		e := c.Events[i]
		if e.Audience == lianxin.AudienceResident && e.Text != "" && slices.Contains(answerEvents, e.Type) {
			v.StatusNotes = maskTelephones(e.Text)
			break
		}
	}
	if c.Location.Lat != 0 || c.Location.Lng != 0 {
		// Rounded to about 100 m: where, not whose door.
		lat, lng := math.Round(c.Location.Lat*1000)/1000, math.Round(c.Location.Lng*1000)/1000
		v.Lat, v.Long = &lat, &lng
	}
	return v
}

func (h *Handler) ts(t time.Time) string { return t.In(h.cfg.Location).Format(time.RFC3339) }

func (h *Handler) writeRequests(w http.ResponseWriter, format string, status int, rs []request) {
	if format == "xml" {
		h.write(w, format, status, xmlRequests{Requests: rs})
		return
	}
	h.write(w, format, status, rs)
}

// publicCase is a case anyone may see, or ENOTFOUND (private cases do not exist here).
func (h *Handler) publicCase(ctx context.Context, number string) (*lianxin.Case, error) {
	c, err := h.cfg.Cases.Case(ctx, number)
	if err != nil {
		return nil, err
	}
	if c.Private {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "no service request %s", number)
	}
	return c, nil
}

func (h *Handler) serveRequest(w http.ResponseWriter, r *http.Request) {
	id, format, ok := split(r.PathValue("file"))
	if !ok {
		h.fail(w, r, "json", http.StatusNotFound, "formats are json and xml")
		return
	}
	c, err := h.publicCase(r.Context(), id)
	if lianxin.ErrorCode(err) == lianxin.ENOTFOUND || (err != nil && !looksLikeNumber(id)) {
		h.fail(w, r, format, http.StatusNotFound, "no service request "+id)
		return
	} else if err != nil {
		h.failErr(w, r, format, err)
		return
	}
	h.writeRequests(w, format, http.StatusOK, []request{h.view(c)})
}

func looksLikeNumber(s string) bool { return strings.Contains(s, "-") && len(s) <= 32 }

// maxList is the most requests one GET lists (GeoReport suggests 1000;
// each needs its timeline for the notes, so fewer).
const maxList = 200

func (h *Handler) serveRequests(w http.ResponseWriter, r *http.Request, format string) {
	q := r.URL.Query()
	ctx := r.Context()
	out := []request{}
	if ids := q.Get("service_request_id"); ids != "" {
		for _, id := range strings.Split(ids, ",") {
			if c, err := h.publicCase(ctx, strings.TrimSpace(id)); err == nil {
				out = append(out, h.view(c))
			} else if lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
				h.failErr(w, r, format, err)
				return
			}
		}
		h.writeRequests(w, format, http.StatusOK, out)
		return
	}
	f := lianxin.CaseFilter{Limit: maxList}
	if code := q.Get("service_code"); code != "" {
		_, cats := h.cfg.Filer.Directory()
		if _, ok := cats.ByKey(code); !ok {
			h.fail(w, r, format, http.StatusBadRequest, "no service_code "+code+" (see services.json)")
			return
		}
		f.Category = code
	}
	var err error
	now := h.cfg.Now()
	// GeoReport: the last 90 days unless dates are given.
	f.From, f.To = now.AddDate(0, 0, -90), time.Time{}
	if s := q.Get("start_date"); s != "" {
		if f.From, err = time.Parse(time.RFC3339, s); err != nil {
			h.fail(w, r, format, http.StatusBadRequest, "start_date must be w3 format (RFC 3339), e.g. 2026-11-01T00:00:00+08:00")
			return
		}
	}
	if s := q.Get("end_date"); s != "" {
		if f.To, err = time.Parse(time.RFC3339, s); err != nil {
			h.fail(w, r, format, http.StatusBadRequest, "end_date must be w3 format (RFC 3339)")
			return
		}
	}
	status := q.Get("status")
	switch status {
	case "":
	case "open":
		f.Status = lianxin.OpenStatuses
	case "closed":
	default:
		h.fail(w, r, format, http.StatusBadRequest, "status is open or closed")
		return
	}
	cases, err := h.cfg.Cases.Cases(ctx, f)
	if err != nil {
		h.failErr(w, r, format, err)
		return
	}
	for _, c := range cases {
		if c.Private || (status == "closed" && !closedStatus(c.Status)) {
			continue
		}
		full, err := h.cfg.Cases.Case(ctx, c.Number)
		if err != nil {
			h.failErr(w, r, format, err)
			return
		}
		out = append(out, h.view(full))
	}
	h.writeRequests(w, format, http.StatusOK, out)
}

// POST requests.

type created struct {
	XMLName       xml.Name `json:"-" xml:"request"`
	ID            string   `json:"service_request_id" xml:"service_request_id"`
	ServiceNotice string   `json:"service_notice" xml:"service_notice"`
	AccountID     *string  `json:"account_id" xml:"account_id,omitempty"`
}

type xmlCreated struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []created `xml:"request"`
}

// maxForm bounds a POST's body: a description, a link and a few fields.
const maxForm = 64 << 10

func (h *Handler) servePost(w http.ResponseWriter, r *http.Request) {
	name, format, ok := split(r.PathValue("file"))
	if !ok || name != "requests" {
		h.fail(w, r, "json", http.StatusNotFound, "POST goes to requests.json or requests.xml")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.fail(w, r, format, http.StatusBadRequest, "the body must be application/x-www-form-urlencoded, at most 64 KiB")
		return
	}
	key := r.PostForm.Get("api_key")
	if key == "" {
		h.fail(w, r, format, http.StatusForbidden, "api_key is required to file a request")
		return
	}
	client, err := h.cfg.Keys.Open311Client(r.Context(), key)
	if err != nil {
		if lianxin.ErrorCode(err) == lianxin.EUNAUTHORIZED {
			h.fail(w, r, format, http.StatusForbidden, "api_key is not valid (unknown or revoked)")
			return
		}
		h.failErr(w, r, format, err)
		return
	}
	if !h.allow(client.ID) {
		w.Header().Set("Retry-After", "60")
		h.fail(w, r, format, http.StatusTooManyRequests, fmt.Sprintf("more than %d requests a minute with this api_key; try again in a minute", h.cfg.RatePerMinute))
		return
	}
	rep, msg := h.report(r.PostForm, client)
	if msg != "" {
		h.fail(w, r, format, http.StatusBadRequest, msg)
		return
	}
	actor := lianxin.User{Username: "open311:" + client.Name}
	c, err := h.cfg.Filer.Register(r.Context(), rep, actor, clientAddr(r))
	if err != nil {
		h.failErr(w, r, format, err)
		return
	}
	h.cfg.Log.Info("open311 request filed", "client", client.Name, "case", c.Number)
	out := created{ID: c.Number, ServiceNotice: "已登记，编号" + c.Number + "。办理情况见 requests/" + c.Number + ".json"}
	if format == "xml" {
		h.write(w, format, http.StatusCreated, xmlCreated{Requests: []created{out}})
		return
	}
	h.write(w, format, http.StatusCreated, []created{out})
}

// allow counts a POST against the client's minute.
func (h *Handler) allow(id int64) bool {
	now := h.cfg.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	win := h.windows[id]
	if win == nil || now.Sub(win.start) >= time.Minute {
		win = &window{start: now}
		h.windows[id] = win
	}
	win.n++
	return win.n <= h.cfg.RatePerMinute
}

// report reads a POST into a report; msg says what is wrong with it.
func (h *Handler) report(f url.Values, client lianxin.Open311Client) (lianxin.Report, string) {
	get := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	_, cats := h.cfg.Filer.Directory()
	code := get("service_code")
	if code == "" {
		return lianxin.Report{}, "service_code is required (see services.json)"
	}
	cat, ok := cats.ByKey(code)
	if !ok {
		return lianxin.Report{}, "no service_code " + code + " (see services.json)"
	}
	r := lianxin.Report{Category: cat, Source: client.Name}
	latS, lngS, addr := get("lat"), get("long"), get("address_string")
	if latS != "" || lngS != "" {
		lat, err1 := strconv.ParseFloat(latS, 64)
		lng, err2 := strconv.ParseFloat(lngS, 64)
		switch {
		case latS == "" || lngS == "":
			return lianxin.Report{}, "lat and long must both be given, as WGS-84 decimal degrees"
		case err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lng):
			return lianxin.Report{}, "lat and long must be WGS-84 decimal degrees, e.g. lat=37.8561&long=113.5727"
		case math.Abs(lat) > 90 || math.Abs(lng) > 180 || (lat == 0 && lng == 0):
			return lianxin.Report{}, "lat and long must lie within ±90 and ±180 (and not both be 0), as WGS-84 decimal degrees"
		}
		r.Location.Lat, r.Location.Lng = lat, lng
	}
	r.Location.Address = addr
	if !r.Location.HasPoint() && addr == "" {
		return lianxin.Report{}, "a location is required: lat and long, or address_string"
	}
	desc := get("description")
	if desc == "" {
		return lianxin.Report{}, "description is required"
	}
	if n := len([]rune(desc)); n > 4000 {
		return lianxin.Report{}, fmt.Sprintf("description is %d characters; at most 4000", n)
	}
	var extra []string
	if m := get("media_url"); m != "" {
		// Kept as a link for staff, never fetched: a URL from outside
		// must not make the service reach into its own network.
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return lianxin.Report{}, "media_url must be an http or https URL"
		}
		extra = append(extra, "照片链接："+m)
	}
	if e := get("email"); e != "" {
		if !strings.Contains(e, "@") || len(e) > 200 {
			return lianxin.Report{}, "email is not an email address"
		}
		extra = append(extra, "联系邮箱："+e)
	}
	r.Description = strings.Join(append([]string{desc}, extra...), "\n")
	if p := get("phone"); p != "" {
		digits := strings.Map(func(c rune) rune {
			if c >= '0' && c <= '9' {
				return c
			}
			return -1
		}, p)
		if len(digits) < 7 || len(digits) > 15 {
			return lianxin.Report{}, "phone is not a telephone number"
		}
		r.Phone = digits
	}
	r.ContactName = strings.TrimSpace(get("last_name") + get("first_name"))
	return r, ""
}

func clientAddr(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return host
}
