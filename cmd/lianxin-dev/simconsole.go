package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"time"
)

// A deputy in sim opens the case links their notices carry, as the
// WeChat in-app browser would: through the fake's web authorisation
// (connect/oauth2/authorize and sns/oauth2/access_token), which signs them
// in to the console without a password.

var consoleLink = regexp.MustCompile(`https?://\S+/console/wx\?case=[A-Za-z0-9-]+`)

// noteLinks remembers the console links sent to each user.
func (s *simSession) noteLinks(m sentMessage) {
	if l := consoleLink.FindString(m.Text); l != "" {
		s.mu.Lock()
		if s.links == nil {
			s.links = map[string]string{}
		}
		s.links[m.To] = l
		s.mu.Unlock()
	}
}

// open opens a console link (default: the last one sent to the current
// user) in a browser of the current WeChat user and prints what it shows.
func (s *simSession) open(ctx context.Context, user, link string) {
	if s.local == nil {
		s.con.printf("!! /open needs -fakewx: the fake WeChat API is the in-app browser's web authorisation\n")
		return
	}
	if link == "" {
		s.mu.Lock()
		link = s.links[user]
		s.mu.Unlock()
	}
	if link == "" {
		s.con.printf("no console link has been sent to %s yet (deputies get one with each notice)\n", user)
		return
	}
	jar, _ := cookiejar.New(nil)
	hops := 0
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		hops++
		return nil
	}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.local.fake.BrowseAsURL(user, link), nil)
	if err != nil {
		s.con.printf("!! %v\n", err)
		return
	}
	resp, err := browser.Do(req)
	if err != nil {
		s.con.printf("!! %v\n", err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	s.con.printf("opened %s as %s: HTTP %d after %d redirects (web authorisation)\n%s", resp.Request.URL.Path, user, resp.StatusCode, hops, indent(pageText(string(body))))
}

var (
	tagRE    = regexp.MustCompile(`(?s)<(script|style|head|form)[^>]*>.*?</(script|style|head|form)>|<[^>]+>`)
	spacesRE = regexp.MustCompile(`[ \t]*\n[\s]*`)
)

// pageText is a page's words, roughly, for the terminal.
func pageText(page string) string {
	t := html.UnescapeString(tagRE.ReplaceAllString(page, "\n"))
	t = strings.TrimSpace(spacesRE.ReplaceAllString(t, "\n"))
	if r := []rune(t); len(r) > 600 {
		t = string(r[:600]) + "…"
	}
	return fmt.Sprintln(t)
}
