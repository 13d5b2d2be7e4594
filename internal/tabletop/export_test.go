package tabletop

import "time"

// SetPollEvery changes how often the hub looks for events nobody
// signalled, so that a test can tell a signal's delivery from a poll's.
func (h *Hub) SetPollEvery(d time.Duration) { h.pollEvery = d }
