package catalog

import (
	"slices"
	"sort"
	"strings"
	"unicode"
)

// Query selects recommendations: free text plus facet filters. Empty
// fields do not filter. Facets with several values match any of them.
type Query struct {
	Text         string
	Layers       []string
	Stakeholders []string
	Dimensions   []string
	Threats      []string
	Books        []string
	Checks       []string
	Priorities   []string
	ScanRule     string
}

// Hit is one search result with its relevance (higher is better).
type Hit struct {
	Rec   *Recommendation
	Score int
}

// FacetCount is how many results carry one value of a facet.
type FacetCount struct {
	Term     Term
	Count    int
	Selected bool
}

// Results are the hits of a query and the facet counts over them.
type Results struct {
	Hits   []Hit
	Facets map[string][]FacetCount // layer, stakeholder, dimension, threat, book, check, priority
}

// Index is an in-memory inverted index over the catalogue. It is built
// once per catalogue version and is safe for concurrent readers; the
// catalogue is a few hundred entries, so answering from memory keeps search
// well under a millisecond on either database.
type Index struct {
	cat      *Catalog
	postings map[string][]posting // term -> recommendations that contain it
	terms    []string             // sorted, for prefix matching
}

type posting struct {
	rec    int
	weight int
}

// Field weights: a match in the title matters more than one in the evidence.
const (
	weightID        = 8
	weightTitle     = 5
	weightStatement = 3
	weightOther     = 1
)

// NewIndex indexes c.
func NewIndex(c *Catalog) *Index {
	ix := &Index{cat: c, postings: map[string][]posting{}}
	for i, r := range c.Recommendations {
		w := map[string]int{}
		add := func(text string, weight int) {
			for _, t := range tokens(text) {
				w[t] += weight
			}
		}
		add(r.ID, weightID)
		w[strings.ToLower(r.ID)] += weightID // "app-001" as one term too
		add(r.Title, weightTitle)
		add(r.Statement, weightStatement)
		for _, s := range []string{r.Rationale, r.AuditQuestion, strings.Join(r.Evidence, " "), strings.Join(r.ScanRules, " "),
			TermName(c.Layers, r.Layer)} {
			add(s, weightOther)
		}
		for _, ref := range r.References {
			add(ref.Standard+" "+ref.Ref, weightOther)
		}
		for _, t := range r.Threats {
			add(TermName(c.Threats, t), weightOther)
		}
		for _, d := range r.Dimensions {
			add(TermName(c.Dimensions, d), weightOther)
		}
		for t, weight := range w {
			ix.postings[t] = append(ix.postings[t], posting{rec: i, weight: weight})
		}
	}
	for t := range ix.postings {
		ix.terms = append(ix.terms, t)
	}
	sort.Strings(ix.terms)
	return ix
}

// tokens splits text into lower-case words of letters and digits, keeping
// dotted and dashed identifiers such as "T1.1", "X.805" or "DFS-MAN-001"
// together as well as in parts.
func tokens(text string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '.' && r != '-' && r != '/'
	}) {
		f = strings.Trim(f, ".-/")
		if f == "" {
			continue
		}
		out = append(out, f)
		if strings.ContainsAny(f, ".-/") {
			out = append(out, strings.FieldsFunc(f, func(r rune) bool { return r == '.' || r == '-' || r == '/' })...)
		}
	}
	return out
}

// Search answers q. Every word of the text must match (the last one as a
// prefix, so results appear while the user types); results are ordered by
// score, then ID.
func (ix *Index) Search(q Query) Results {
	c := ix.cat
	var scores map[int]int
	words := tokens(q.Text)
	for wi, w := range words {
		matches := map[int]int{}
		if wi == len(words)-1 {
			i := sort.SearchStrings(ix.terms, w)
			for ; i < len(ix.terms) && strings.HasPrefix(ix.terms[i], w); i++ {
				exact := ix.terms[i] == w
				for _, p := range ix.postings[ix.terms[i]] {
					s := p.weight
					if !exact {
						s = (s + 1) / 2
					}
					matches[p.rec] += s
				}
			}
		} else {
			for _, p := range ix.postings[w] {
				matches[p.rec] += p.weight
			}
		}
		if scores == nil {
			scores = matches
			continue
		}
		for rec := range scores {
			if m, ok := matches[rec]; ok {
				scores[rec] += m
			} else {
				delete(scores, rec)
			}
		}
	}
	var hits []Hit
	for i := range c.Recommendations {
		r := &c.Recommendations[i]
		score := 0
		if scores != nil {
			s, ok := scores[i]
			if !ok {
				continue
			}
			score = s
		}
		if !q.matchesFacets(r) {
			continue
		}
		hits = append(hits, Hit{Rec: r, Score: score})
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if hits[i].Score != hits[j].Score {
			return hits[i].Score > hits[j].Score
		}
		return hits[i].Rec.ID < hits[j].Rec.ID
	})
	return Results{Hits: hits, Facets: ix.facets(hits, q)}
}

func anyIn(selected []string, values ...string) bool {
	if len(selected) == 0 {
		return true
	}
	for _, v := range values {
		if slices.Contains(selected, v) {
			return true
		}
	}
	return false
}

func (q Query) matchesFacets(r *Recommendation) bool {
	return anyIn(q.Layers, r.Layer) && anyIn(q.Stakeholders, r.Stakeholders...) && anyIn(q.Dimensions, r.Dimensions...) &&
		anyIn(q.Threats, r.Threats...) && anyIn(q.Books, r.Book) && anyIn(q.Checks, checkKeys(r)...) &&
		anyIn(q.Priorities, r.Priority) &&
		(q.ScanRule == "" || slices.Contains(r.ScanRules, q.ScanRule))
}

var checkTerms = []Term{
	{Key: string(CheckStatic), Name: "Static scan of the app"},
	{Key: string(CheckDynamic), Name: "Device or proxy test"},
	{Key: string(CheckReview), Name: "Document or process review"},
}

func checkKeys(r *Recommendation) []string {
	out := make([]string, len(r.Checks))
	for i, k := range r.Checks {
		out[i] = string(k)
	}
	return out
}

// CheckTerms names the ways a recommendation can be checked.
func CheckTerms() []Term { return slices.Clone(checkTerms) }

func (ix *Index) facets(hits []Hit, q Query) map[string][]FacetCount {
	c := ix.cat
	count := func(terms []Term, selected []string, values func(r *Recommendation) []string) []FacetCount {
		n := map[string]int{}
		for _, h := range hits {
			for _, v := range values(h.Rec) {
				n[v]++
			}
		}
		out := make([]FacetCount, 0, len(terms))
		for _, t := range terms {
			out = append(out, FacetCount{Term: t, Count: n[t.Key], Selected: slices.Contains(selected, t.Key)})
		}
		return out
	}
	return map[string][]FacetCount{
		"layer":       count(c.Layers, q.Layers, func(r *Recommendation) []string { return []string{r.Layer} }),
		"stakeholder": count(c.Stakeholders, q.Stakeholders, func(r *Recommendation) []string { return r.Stakeholders }),
		"dimension":   count(c.Dimensions, q.Dimensions, func(r *Recommendation) []string { return r.Dimensions }),
		"threat":      count(c.Threats, q.Threats, func(r *Recommendation) []string { return r.Threats }),
		"book":        count(c.Books, q.Books, func(r *Recommendation) []string { return []string{r.Book} }),
		"check":       count(checkTerms, q.Checks, checkKeys),
		"priority":    count(c.Priorities, q.Priorities, func(r *Recommendation) []string { return []string{r.Priority} }),
	}
}
