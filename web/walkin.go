package web

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/lianxin/lianxin"
)

// Walk-ins and calls (/console/new): staff register what a resident
// brought to the station (来访, e.g. on reception day) or said on the phone
// (来电), with photos from the computer. The case is routed, assigned and
// supervised like one filed in chat.

type walkInForm struct {
	Source      string
	Category    string
	Description string
	Name        string
	Phone       string
	Address     string
	Station     string
	Uploaded    []int64 // photos already kept from an earlier try of this form
}

type walkInPage struct {
	Base
	Form     walkInForm
	Errors   map[string]string
	Cats     lianxin.Categories
	Stations []lianxin.Station
	Sources  []string
}

var phoneRE = regexp.MustCompile(`^(1\d{10}|0\d{2,3}-?\d{7,8})$`)

// Limits of an upload: WeChat's own photo limit each, nine photos.
const (
	maxUploadPhotos = 9
	maxUploadBytes  = 10 << 20
)

// Validate returns, per field, the key of the message shown next to it.
func (f *walkInForm) Validate(rc *reqCtx) map[string]string {
	errs := map[string]string{}
	if f.Source != lianxin.SourceVisit && f.Source != lianxin.SourceCall && f.Source != lianxin.SourceOther {
		errs["source"] = "source_required"
	}
	if _, ok := rc.cats.ByKey(f.Category); !ok {
		errs["category"] = "category_required"
	}
	if n := len([]rune(strings.TrimSpace(f.Description))); n < 5 {
		errs["description"] = "description_short"
	} else if n > maxText {
		errs["description"] = "text_too_long"
	}
	if f.Phone != "" && !phoneRE.MatchString(f.Phone) {
		errs["phone"] = "phone_invalid"
	}
	if f.Station == "" && rc.user.Role != lianxin.RoleAdmin {
		errs["station"] = "station_required"
	} else if f.Station != "" {
		if _, ok := rc.dir.Station(f.Station); !ok || !rc.scope.Allows(f.Station, "") {
			errs["station"] = "station_required"
		}
	}
	if len(f.Uploaded) > maxUploadPhotos {
		errs["photos"] = "photos_too_many"
	}
	return errs
}

func (h *Handler) walkInPageData(r *http.Request, rc *reqCtx, f walkInForm) walkInPage {
	p := walkInPage{Base: h.base(r, rc, "登记来访来电"), Form: f, Errors: map[string]string{}, Cats: rc.cats,
		Sources: []string{lianxin.SourceVisit, lianxin.SourceCall, lianxin.SourceOther}}
	for _, st := range rc.dir.Stations {
		if rc.scope.Allows(st.ID, "") {
			p.Stations = append(p.Stations, st)
		}
	}
	return p
}

func (h *Handler) walkInPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	f := walkInForm{Source: lianxin.SourceVisit, Station: rc.user.StationID}
	return h.render(w, "new", h.walkInPageData(r, rc, f))
}

func (h *Handler) walkIn(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	// Nine photos of at most 10 MiB each, and the form around them.
	r.Body = http.MaxBytesReader(w, r.Body, maxUploadPhotos*maxUploadBytes+1<<20)
	if err := r.ParseMultipartForm(32 << 20); err != nil && err != http.ErrNotMultipart {
		return lianxin.Errorf(lianxin.EINVALID, "bad form: %v", err)
	}
	f := walkInForm{Source: r.FormValue("source"), Category: r.FormValue("category"), Description: strings.TrimSpace(r.FormValue("description")),
		Name: strings.TrimSpace(r.FormValue("name")), Phone: strings.ReplaceAll(strings.TrimSpace(r.FormValue("phone")), " ", ""),
		Address: strings.TrimSpace(r.FormValue("address")), Station: r.FormValue("station")}
	for _, s := range r.Form["uploaded"] {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && !slices.Contains(f.Uploaded, id) {
			f.Uploaded = append(f.Uploaded, id)
		}
	}
	p := h.walkInPageData(r, rc, f)
	// Photos are kept first, so a form sent back for a typo does not ask
	// for them again.
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["photos"] {
			if fh.Size == 0 {
				continue
			}
			if fh.Size > maxUploadBytes {
				p.Errors["photos"] = "photo_too_large"
				continue
			}
			file, err := fh.Open()
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(file, maxUploadBytes+1))
			file.Close()
			if err != nil {
				return err
			}
			if h.cfg.Uploads == nil {
				p.Errors["photos"] = "photos_unavailable"
				continue
			}
			id, err := h.cfg.Uploads.SaveUpload(r.Context(), data)
			if lianxin.ErrorCode(err) == lianxin.EINVALID {
				p.Errors["photos"] = "photo_bad"
				continue
			} else if err != nil {
				return err
			}
			f.Uploaded = append(f.Uploaded, id)
		}
	}
	p.Form = f
	for k, v := range f.Validate(rc) {
		p.Errors[k] = v
	}
	if len(p.Errors) > 0 {
		return h.render(w, "new", p, http.StatusBadRequest)
	}
	cat, _ := rc.cats.ByKey(f.Category)
	rep := lianxin.Report{Category: cat, Description: f.Description, Location: lianxin.Location{Address: f.Address},
		StationID: f.Station, Phone: f.Phone, Attachments: f.Uploaded, Source: f.Source, ContactName: f.Name}
	c, err := h.cfg.Casework.Register(r.Context(), rep, rc.user, clientAddr(r))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/cases/"+url.PathEscape(c.Number)+"?done=registered", http.StatusSeeOther)
	return nil
}
