// Package arsc reads resources.arsc, the compiled resource table of an APK,
// and resolves resource IDs (the @0x7f... references of binary XML) to
// values. Resolution is by ID only: names are for display, so apps whose
// resource names were shortened or obfuscated resolve the same.
//
// The App Bundle reader (package aabproto) fills the same Table from
// resources.pb, so callers resolve references the same way for APKs and
// AABs. A decoded Table is immutable and safe for concurrent use.
package arsc

import (
	"cmp"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/dfslab/dfslab/internal/apk/axml"
)

// ErrFormat is wrapped by errors about malformed tables.
var ErrFormat = axml.ErrFormat

// Resolution errors.
var (
	ErrNotFound = errors.New("resource not found")
	ErrComplex  = errors.New("resource is a bag (style, array, plural), not a single value")
	ErrCycle    = errors.New("resource references form a cycle or a chain too long")
)

// maxHops bounds reference chains (@string/a -> @string/b -> ...).
const maxHops = 16

// Table is a resource table.
type Table struct {
	Packages []*Package
	index    map[uint32][]*Entry
}

// Package is one resource package (0x7f for the app, 0x01 for the framework).
type Package struct {
	ID      uint8
	Name    string
	Entries []*Entry // every entry in every configuration, in file order

	// builder state for Add; unused by decoded tables.
	typeIDs map[string]uint8
	keyIDs  map[string]uint32
}

// Entry is the value of one resource in one configuration.
type Entry struct {
	ID     uint32 // 0xPPTTEEEE
	Type   string // "string", "xml", "bool" ...
	Key    string // resource name, possibly obfuscated
	Config Config
	Value  axml.Value // simple entries
	// Complex entries (styles, arrays, plurals) have a parent and items
	// instead of a Value.
	Complex bool
	Parent  uint32
	Items   []Item
}

// Item is one element of a complex entry.
type Item struct {
	Name  uint32 // attribute or array index key
	Value axml.Value
}

// Name returns "type/key", the resource's display name.
func (e *Entry) Name() string { return e.Type + "/" + e.Key }

// NewTable indexes the packages; use it after building packages with Add.
func NewTable(pkgs ...*Package) *Table {
	n := 0
	for _, p := range pkgs {
		n += len(p.Entries)
	}
	t := &Table{Packages: pkgs, index: make(map[uint32][]*Entry, n)}
	for _, p := range pkgs {
		for _, e := range p.Entries {
			t.index[e.ID] = append(t.index[e.ID], e)
		}
	}
	return t
}

// Values returns the entries of id in every configuration.
func (t *Table) Values(id uint32) []*Entry {
	if t == nil {
		return nil
	}
	return t.index[id]
}

// All yields every entry of every package.
func (t *Table) All() iter.Seq[*Entry] {
	return func(yield func(*Entry) bool) {
		if t == nil {
			return
		}
		for _, p := range t.Packages {
			for _, e := range p.Entries {
				if !yield(e) {
					return
				}
			}
		}
	}
}

// Name returns the display name "type/key" of id, or "" if unknown.
func (t *Table) Name(id uint32) string {
	if es := t.Values(id); len(es) > 0 {
		return es[0].Name()
	}
	return ""
}

// Lookup finds a resource ID by type and name, e.g. ("string", "app_name").
func (t *Table) Lookup(typ, key string) (uint32, bool) {
	for e := range t.All() {
		if e.Type == typ && e.Key == key {
			return e.ID, true
		}
	}
	return 0, false
}

// Best returns the entry of id that a typical device would use: the default
// configuration when present, else the most general one (see configRank).
func (t *Table) Best(id uint32) (*Entry, bool) {
	es := t.Values(id)
	if len(es) == 0 {
		return nil, false
	}
	return slices.MinFunc(es, func(a, b *Entry) int {
		return cmp.Compare(configRank(a.Config), configRank(b.Config))
	}), true
}

// configRank orders configurations from most to least likely to be what a
// current phone in an unknown locale sees: default; platform version only
// (newest first, as modern devices pick the highest v-qualifier); density or
// screen qualifiers; English; other locales.
func configRank(c Config) int {
	switch {
	case c.IsDefault():
		return 0
	case c.onlySDK():
		return 100_000 - int(c.SDKVersion)
	case !c.HasLocale() && !c.Other:
		return 200_000 + int(c.SDKVersion)
	case c.Language == "en" && c.Region == "" && c.MCC == 0:
		return 300_000
	case c.Language == "en":
		return 310_000
	case !c.HasLocale():
		return 320_000
	}
	return 400_000
}

// Resolve returns the value of id in the best configuration, following
// references to other resources. A file resource (@xml, @drawable) resolves
// to its path inside the APK as a string value.
func (t *Table) Resolve(id uint32) (axml.Value, error) {
	start := id
	for range maxHops {
		e, ok := t.Best(id)
		if !ok {
			return axml.Value{}, fmt.Errorf("0x%08x: %w", id, ErrNotFound)
		}
		if e.Complex {
			return axml.Value{}, fmt.Errorf("0x%08x (%s): %w", id, e.Name(), ErrComplex)
		}
		if e.Value.IsReference() {
			id = e.Value.Data
			continue
		}
		return e.Value, nil
	}
	return axml.Value{}, fmt.Errorf("0x%08x: %w", start, ErrCycle)
}

// ResolveValue resolves v when it is a reference and returns it unchanged
// otherwise.
func (t *Table) ResolveValue(v axml.Value) (axml.Value, error) {
	if !v.IsReference() {
		return v, nil
	}
	return t.Resolve(v.Data)
}

// NewPackage returns an empty package for building tables in tests.
func NewPackage(id uint8, name string) *Package {
	return &Package{ID: id, Name: name}
}

// Add adds a value for type/key in configuration cfg and returns its
// resource ID. IDs are assigned in order of first use: type IDs from 1,
// entry IDs from 0, as aapt does.
func (p *Package) Add(typ, key string, cfg Config, v axml.Value) uint32 {
	e := p.add(typ, key, cfg)
	e.Value = v
	return e.ID
}

// AddComplex adds a bag entry (style, array) and returns its resource ID.
func (p *Package) AddComplex(typ, key string, cfg Config, parent uint32, items []Item) uint32 {
	e := p.add(typ, key, cfg)
	e.Complex, e.Parent, e.Items = true, parent, items
	return e.ID
}

func (p *Package) add(typ, key string, cfg Config) *Entry {
	if p.typeIDs == nil {
		p.typeIDs, p.keyIDs = map[string]uint8{}, map[string]uint32{}
	}
	tid, ok := p.typeIDs[typ]
	if !ok {
		tid = uint8(len(p.typeIDs) + 1)
		p.typeIDs[typ] = tid
	}
	id, ok := p.keyIDs[typ+"/"+key]
	if !ok {
		n := 0
		for k := range p.keyIDs {
			if len(k) > len(typ) && k[:len(typ)+1] == typ+"/" {
				n++
			}
		}
		id = uint32(p.ID)<<24 | uint32(tid)<<16 | uint32(n)
		p.keyIDs[typ+"/"+key] = id
	}
	e := &Entry{ID: id, Type: typ, Key: key, Config: cfg}
	p.Entries = append(p.Entries, e)
	return e
}
