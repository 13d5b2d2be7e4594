// Package tabletop runs tabletop exercises of the DFS sector: a library of
// scenarios as data (embedded YAML, validated with line numbers), each a
// sequence of timed injects with the actions every domain group is
// expected to take, linked to the catalogue recommendations and the
// resilience-assessment questions a debrief probes; organisations clone,
// edit, import and export scenarios; facilitators set up exercises from
// them for people of several organisations, in groups (one per domain by
// default) and roles.
//
// The scenario format is documented in docs/tabletop.md; the built-in
// scenarios are in scenarios/.
package tabletop
