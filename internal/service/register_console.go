package service

import (
	"github.com/lianxin/lianxin/report"
	"github.com/lianxin/lianxin/store"
)

// reportDesk is the console's register pages (issue 13): the store's
// register reads and privacy writes, and the reporter over the directory
// in use now.
type reportDesk struct {
	*store.DB
	s *Service
}

func (d reportDesk) Reporter() *report.Reporter { return d.s.Reporter() }
