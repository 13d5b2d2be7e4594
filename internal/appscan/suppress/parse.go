package suppress

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Parse parses the suppressions file data; name is only used in messages.
// Every problem is reported with its line, all at once, so that a user fixes
// the file in one pass. The result is an *Error or several joined with
// errors.Join.
//
// Format:
//
//	version: 1            # optional
//	suppressions:
//	  - rule: DFS-MAN-001 # rule ID or glob, required
//	    location: com.example.debug   # glob or prefix, optional
//	    app: com.example.wallet       # package name or glob, optional
//	    reason: accepted risk, ticket SEC-42   # required
//	    expires: 2026-12-31           # YYYY-MM-DD, optional
func Parse(name string, data []byte) (*File, error) {
	f := &File{Path: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return f, nil // empty file: nothing suppressed
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: name, Line: root.Line, Msg: "expected a mapping with a 'suppressions' list at the top level"}
	}
	var errs []error
	bad := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, &Error{File: name, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			if v.Kind != yaml.ScalarNode || v.Value != "1" {
				bad(v, "unsupported version %q (this dfslab reads version 1)", v.Value)
			}
		case "suppressions":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				continue
			}
			if v.Kind != yaml.SequenceNode {
				bad(v, "'suppressions' must be a list")
				continue
			}
			for _, item := range v.Content {
				r, ok := parseRule(item, bad)
				if ok {
					f.Rules = append(f.Rules, r)
				}
			}
		default:
			bad(k, "unknown key %q (want version or suppressions)", k.Value)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

func parseRule(n *yaml.Node, bad func(*yaml.Node, string, ...any)) (Rule, bool) {
	r := Rule{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		bad(n, "each suppression must be a mapping with rule, reason and optional location, app, expires")
		return r, false
	}
	ok := true
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			bad(k, "duplicate key %q", k.Value)
			ok = false
			continue
		}
		seen[k.Value] = true
		if v.Kind != yaml.ScalarNode {
			bad(v, "%q must be a single value", k.Value)
			ok = false
			continue
		}
		val := strings.TrimSpace(v.Value)
		switch k.Value {
		case "rule":
			r.RuleID = val
		case "location":
			r.Location = val
		case "app":
			r.App = val
		case "reason":
			r.Reason = val
		case "expires":
			t, err := time.Parse(time.DateOnly, val)
			if err != nil {
				bad(v, "expires: %q is not a date (want YYYY-MM-DD)", val)
				ok = false
				continue
			}
			r.Expires = t
		default:
			bad(k, "unknown key %q (want rule, location, app, reason or expires)", k.Value)
			ok = false
		}
	}
	if r.RuleID == "" {
		bad(n, "suppression without 'rule'")
		ok = false
	}
	if r.Reason == "" {
		bad(n, "suppression of %q without 'reason': say why the risk is accepted", r.RuleID)
		ok = false
	}
	for _, p := range [...][2]string{{"rule", r.RuleID}, {"location", r.Location}, {"app", r.App}} {
		if _, err := path.Match(p[1], ""); err != nil {
			bad(n, "%s: malformed pattern %q", p[0], p[1])
			ok = false
		}
	}
	return r, ok
}
