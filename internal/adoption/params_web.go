package adoption

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dfslab/dfslab/internal/catalog"
)

// paramInput is one parameter field of the draft form.
type paramInput struct {
	Name, Label string
	Unit        catalog.Unit
	Default     string // "48 hours"
	Range       string // "24–72 hours"
	Min, Max    int
	Value       string // as typed, or the value set; "" for the default
	Problem     bool
}

// Field is the form field's name.
func (p paramInput) Field() string { return "param_" + p.Name }

// paramInputs are rec's parameter fields: raw where the editor typed
// something (a refused form), else the values set.
func paramInputs(rec *catalog.Recommendation, values map[string]int, raw map[string]string, field string) []paramInput {
	var out []paramInput
	for _, p := range rec.Parameters {
		in := paramInput{Name: p.Name, Label: p.Label, Unit: p.Unit, Default: p.Format(p.Default), Range: p.Range(), Min: p.Min, Max: p.Max}
		if s, ok := raw[p.Name]; ok {
			in.Value = s
		} else if v, ok := values[p.Name]; ok {
			in.Value = strconv.Itoa(v)
		}
		in.Problem = field == in.Field() || (field == "param" && raw != nil)
		out = append(out, in)
	}
	return out
}

// parseParamForm reads the parameter fields of the draft form into
// it.Values and returns what was typed. A blank field is the catalogue's
// default. Without the form's marker (a script posting only the
// decision) the values stay as the draft holds them.
func parseParamForm(r *http.Request, rec *catalog.Recommendation, it *BaselineItem) (map[string]string, error) {
	if r.PostFormValue("params_set") != "1" || len(rec.Parameters) == 0 {
		return nil, nil
	}
	raw := map[string]string{}
	it.Values = map[string]int{}
	var firstErr error
	for _, p := range rec.Parameters {
		s := strings.TrimSpace(r.PostFormValue("param_" + p.Name))
		raw[p.Name] = s
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil && firstErr == nil {
			firstErr = invalid("param_"+p.Name, fmt.Sprintf("%s must be a whole number of %s from %s, or blank for the catalogue's default (%s).",
				p.Label, p.Unit, p.Range(), p.Format(p.Default)))
		}
		if err == nil {
			it.Values[p.Name] = v
		}
	}
	return raw, firstErr
}

// draftValueLabels are the values a draft item sets, for the draft table:
// "Hold after a SIM swap: 24 hours" (the defaults are not repeated).
func draftValueLabels(rec *catalog.Recommendation, values map[string]int) []string {
	var out []string
	for _, p := range rec.Parameters {
		if v, ok := values[p.Name]; ok {
			out = append(out, p.Label+": "+p.Format(v))
		}
	}
	return out
}
