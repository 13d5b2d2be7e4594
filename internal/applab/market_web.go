package applab

import (
	"net/http"
)

type marketData struct {
	Org       Org
	Regulator bool
	Rows      []MarketRow
}

func (m *Module) market(w http.ResponseWriter, r *http.Request) {
	o, ok := m.org(w, r)
	if !ok {
		return
	}
	rows, err := m.store.Market(r.Context(), o)
	if err != nil {
		m.fail(w, r, "market", err)
		return
	}
	m.render(w, r, http.StatusOK, "market.html", "Apps in the market · "+o.Country, marketData{Org: o, Regulator: o.IsRegulator(), Rows: rows}, "")
}
