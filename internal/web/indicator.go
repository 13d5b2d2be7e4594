package web

import (
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"
)

// An Indicator is a Module that shows a small count in the page header of
// signed-in users, next to their name: unread notifications, for example.
// It is asked on every page a signed-in user loads, so it must be cheap
// (one indexed read); when it fails or has nothing to say it returns false
// and the page is shown without it.
type Indicator interface {
	Indicate(r *http.Request, p *Principal) (Badge, bool)
}

// Badge is what an Indicator shows: a link with a label and a count.
type Badge struct {
	ID    string // element id, for tests and styling
	Label string // e.g. "Notifications"
	Href  string
	Count int
}

func (rd *Renderer) setIndicators(ins []Indicator) { rd.indicators = ins }

// badgeCacheMax bounds the rendered badges kept: one per distinct badge
// (label, link and count), so few; when full the cache starts over.
const badgeCacheMax = 4096

// badgeCache holds rendered badges by value.
type badgeCache struct {
	mu sync.RWMutex
	m  map[Badge]template.HTML
}

// badgesHTML renders bs through the "badge" template, each distinct
// badge once.
func (rd *Renderer) badgesHTML(bs []Badge) (template.HTML, error) {
	var out template.HTML
	for _, b := range bs {
		c := &rd.badgeHTML
		c.mu.RLock()
		h, ok := c.m[b]
		c.mu.RUnlock()
		if !ok {
			var sb strings.Builder
			if err := rd.chrome.ExecuteTemplate(&sb, "badge", b); err != nil {
				return "", fmt.Errorf("render badge: %w", err)
			}
			h = template.HTML(sb.String())
			c.mu.Lock()
			if c.m == nil || len(c.m) >= badgeCacheMax {
				c.m = make(map[Badge]template.HTML)
			}
			c.m[b] = h
			c.mu.Unlock()
		}
		out += h
	}
	return out, nil
}

func (rd *Renderer) badges(r *http.Request, p *Principal) []Badge {
	var out []Badge
	for _, in := range rd.indicators {
		if b, ok := in.Indicate(r, p); ok {
			out = append(out, b)
		}
	}
	return out
}
