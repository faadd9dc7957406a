package service

import (
	"net/http"

	"github.com/lianxin/lianxin/open311"
)

// open311 is the GeoReport v2 endpoint over the register: keys and reads
// from the store, filing through the engine (routed, assigned, supervised
// like chat cases).
func (s *Service) open311() http.Handler {
	return open311.New(open311.Config{
		Keys: s.DB, Cases: s.DB, Filer: s.Engine,
		PublicURL: s.Config.Console.PublicURL,
		Location:  s.Config.Location(),
		Now:       s.opts.Clock,
		Log:       s.log.With("part", "open311"),
	})
}
