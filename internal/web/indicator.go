package web

import "net/http"

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

func (rd *Renderer) badges(r *http.Request, p *Principal) []Badge {
	var out []Badge
	for _, in := range rd.indicators {
		if b, ok := in.Indicate(r, p); ok {
			out = append(out, b)
		}
	}
	return out
}
