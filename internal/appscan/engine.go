package appscan

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dfslab/dfslab/internal/apk"
)

// Options configure a Scanner. The zero value scans with every rule.
type Options struct {
	// Rules keeps only the rules whose ID equals, or starts with, one of
	// these entries (e.g. "DFS-CRYPTO-" or "DFS-MAN-001"). Empty means all.
	Rules []string
	// Exclude drops rules the same way; it wins over Rules.
	Exclude []string
	// MinSeverity drops findings below this severity.
	MinSeverity Severity
	// Timeout bounds the scan of one file; 0 means no limit beyond ctx.
	Timeout time.Duration
	// MaxFileSize refuses larger inputs before reading them; 0 means 2 GiB.
	MaxFileSize int64
	// Limits bound what is read from inside one app (zip entry sizes and
	// ratios, split APKs, assets, native libraries); zero fields take the
	// loader's defaults.
	Limits apk.Limits
	// MaxFindingsPerRule caps the findings one rule may report for one app
	// (a logging rule in a big app would otherwise drown the report);
	// 0 means 50.
	MaxFindingsPerRule int
	// IncludeLibraries counts findings in library code in the score, as
	// the app's own do. By default they are reported apart and do not
	// count: the app's developers cannot fix them where they are.
	IncludeLibraries bool
	// Workers is the number of goroutines for the code pass; 0 means GOMAXPROCS.
	Workers int
	// Now is the clock for certificate validity checks; nil means time.Now.
	Now func() time.Time
	// Logger receives debug information; nil discards it.
	Logger *slog.Logger
}

// Scanner runs the selected rules over apps. It is safe for concurrent use.
type Scanner struct {
	opts  Options
	rules []*rule
	// callIndex maps "pkg.Class.method" to the code rules that watch it,
	// so the single pass over the code does one map lookup per call.
	callIndex map[callKey][]*rule
	// watched holds the method names of callIndex: most calls of an app
	// name a method no rule watches, and one lookup rules them out before
	// the supertype chain is walked.
	watched   map[string]bool
	codeRules []*rule
	// stringRules are the code rules with an onString hook.
	stringRules []*rule
	log         *slog.Logger
}

// NewScanner prepares a scanner with the rules opts selects.
func NewScanner(opts Options) *Scanner {
	if opts.MaxFindingsPerRule <= 0 {
		opts.MaxFindingsPerRule = 50
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 2 << 30
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Scanner{opts: opts, callIndex: map[callKey][]*rule{}, watched: map[string]bool{}, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range allRules() {
		if !selected(r.ID, opts.Rules, opts.Exclude) {
			continue
		}
		s.rules = append(s.rules, r)
		for _, c := range r.calls {
			k := splitTarget(c)
			s.callIndex[k] = append(s.callIndex[k], r)
			s.watched[k.name] = true
		}
		if r.onCall != nil || r.onMethod != nil || r.onString != nil || r.onClass != nil {
			s.codeRules = append(s.codeRules, r)
		}
		if r.onString != nil {
			s.stringRules = append(s.stringRules, r)
		}
	}
	return s
}

func selected(id string, include, exclude []string) bool {
	match := func(list []string) bool {
		for _, p := range list {
			if id == p || strings.HasPrefix(id, p) {
				return true
			}
		}
		return false
	}
	if match(exclude) {
		return false
	}
	return len(include) == 0 || match(include)
}

// Rules returns the metadata of every rule, sorted by ID.
func Rules() []RuleMeta {
	rs := allRules()
	out := make([]RuleMeta, len(rs))
	for i, r := range rs {
		out[i] = r.RuleMeta
	}
	slices.SortFunc(out, func(a, b RuleMeta) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// ScanFile opens and scans one app file. An error means the container
// itself could not be read; problems with parts of the app end up in
// Result.Warnings.
func (s *Scanner) ScanFile(ctx context.Context, path string) (*Result, error) {
	start := time.Now()
	if s.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.opts.Timeout)
		defer cancel()
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", path)
	}
	if fi.Size() > s.opts.MaxFileSize {
		return nil, fmt.Errorf("%s: %d bytes exceeds the limit of %d", path, fi.Size(), s.opts.MaxFileSize)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	app, err := apk.OpenWithLimits(ctx, f, fi.Size(), s.opts.Limits)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res, err := s.ScanApp(ctx, app)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	res.Target = Target{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: fi.Size(), Format: string(app.Format)}
	res.Duration = time.Since(start)
	s.log.DebugContext(ctx, "scanned", "path", path, "format", res.Target.Format, "classes", res.App.Classes,
		"findings", len(res.Findings), "warnings", len(res.Warnings), "duration", res.Duration)
	return res, nil
}

// ScanApp runs the rules over an already opened app. The platform uses it
// for uploads it holds in memory; tests use it with generated apps.
func (s *Scanner) ScanApp(ctx context.Context, app *apk.App) (*Result, error) {
	start := time.Now()
	sc := newScanCtx(app, s.opts.Now())
	res := &Result{Target: Target{Format: string(app.Format)}, Warnings: slices.Clone(app.Warnings)}
	fillInventory(res, app, sc)

	var hits []hit
	for _, r := range s.rules {
		if r.check == nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := runCheck(r, sc, func(h hit) { h.rule = r; hits = append(hits, h) }); err != nil {
			res.Warnings = append(res.Warnings, err.Error())
		}
	}
	codeHits, pend, warns, err := s.codePass(ctx, sc)
	if err != nil {
		return nil, err
	}
	hits = append(hits, codeHits...)
	hits = append(hits, sc.resolvePending(pend)...)
	res.Warnings = append(res.Warnings, warns...)

	s.collect(sc, res, hits, len(app.Classes) > 0)
	res.Score = score(res.Findings, s.opts.IncludeLibraries)
	res.Duration = time.Since(start)
	return res, nil
}

// hit is one raw match of a rule before it becomes a Finding.
type hit struct {
	rule     *rule
	msg      string
	loc      Location
	evidence string
	// library attributes a hit whose location cannot say it (an
	// app-level finding about library components), "" to attribute it by
	// its location.
	library string
}

type emitFunc func(hit)

// codePass visits every method of every class once, in parallel over
// classes, and asks only the rules that registered for what it meets.
func (s *Scanner) codePass(ctx context.Context, sc *scanCtx) ([]hit, []pending, []string, error) {
	classes := sc.app.Classes
	if len(classes) == 0 || len(s.codeRules) == 0 {
		return nil, nil, nil, nil
	}
	workers := min(s.opts.Workers, max(1, len(classes)/64))
	var (
		mu   sync.Mutex
		all  []hit
		pend []pending
		warn []string
		next = make(chan int, workers)
		wg   sync.WaitGroup
		cerr error
	)
	const chunk = 256
	for range workers {
		wg.Go(func() {
			var local []hit
			var localWarn []string
			var localPend []pending
			mc := &methodCtx{scan: sc, pending: &localPend}
			mc.emit = func(h hit) { h.rule = mc.rule; local = append(local, h) }
			for lo := range next {
				if ctx.Err() != nil {
					continue
				}
				for i := lo; i < min(lo+chunk, len(classes)); i++ {
					if err := s.safeVisit(mc, &classes[i]); err != nil && len(localWarn) < 10 {
						localWarn = append(localWarn, err.Error())
					}
				}
			}
			mu.Lock()
			all = append(all, local...)
			pend = append(pend, localPend...)
			warn = append(warn, localWarn...)
			mu.Unlock()
		})
	}
	for lo := 0; lo < len(classes); lo += chunk {
		if err := ctx.Err(); err != nil {
			cerr = err
			break
		}
		next <- lo
	}
	close(next)
	wg.Wait()
	if cerr != nil {
		return nil, nil, nil, cerr
	}
	return all, pend, warn, ctx.Err()
}

// runCheck runs an app-level check. A panic (a rule bug met on an odd
// app) becomes a warning naming the rule instead of ending a batch scan.
func runCheck(r *rule, sc *scanCtx, emit emitFunc) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: internal error, rule skipped: %v", r.ID, p)
		}
	}()
	r.check(sc, emit)
	return nil
}

// safeVisit is visitClass with a panic turned into an error; it runs in a
// worker goroutine, where a panic would end the process.
func (s *Scanner) safeVisit(mc *methodCtx, c *apk.Class) (err error) {
	defer func() {
		if p := recover(); p != nil {
			id := "?"
			if mc.rule != nil {
				id = mc.rule.ID
			}
			err = fmt.Errorf("%s: internal error in class %s: %v", id, c.Name, p)
		}
	}()
	s.visitClass(mc, c)
	return nil
}

func (s *Scanner) visitClass(mc *methodCtx, c *apk.Class) {
	mc.class = c
	mc.method = nil
	mc.line = 0
	mc.library = mc.scan.attr.library(c.Name)
	for _, r := range s.codeRules {
		if r.onClass != nil && mc.wants(r) {
			mc.rule = r
			r.onClass(mc, mc.emit)
		}
	}
	for mi := range c.Methods {
		m := &c.Methods[mi]
		mc.method = m
		mc.line = m.Line
		for _, r := range s.codeRules {
			if r.onMethod != nil && mc.wants(r) {
				mc.rule = r
				r.onMethod(mc, mc.emit)
			}
		}
		// Strings outnumber everything else; their byte signature, computed
		// once, lets most rules reject a string without searching it.
		for _, str := range m.Strings {
			mc.sig = byteSig(str)
			for _, r := range s.stringRules {
				if !mc.wants(r) {
					continue
				}
				mc.rule = r
				r.onString(mc, str, mc.emit)
			}
		}
		for ci := range m.Calls {
			call := &m.Calls[ci]
			if !s.watched[call.Name] {
				continue
			}
			mc.line = m.Line
			if call.Line > 0 {
				mc.line = int(call.Line)
			}
			chain := mc.scan.chain(call.Class)
			if chain == nil || call.Name == "<init>" {
				s.dispatch(mc, call, call.Class)
				continue
			}
			for _, sup := range chain {
				s.dispatch(mc, call, sup)
			}
		}
	}
}

func (s *Scanner) dispatch(mc *methodCtx, call *apk.Call, class string) {
	for _, r := range s.callIndex[callKey{class, call.Name}] {
		if r.onCall != nil && mc.wants(r) {
			mc.rule = r
			r.onCall(mc, call, mc.emit)
		}
	}
}

// wants reports whether rule r looks at the current class.
func (mc *methodCtx) wants(r *rule) bool { return !r.appOnly || mc.library == "" }

// collect turns hits into findings and control statuses.
func (s *Scanner) collect(sc *scanCtx, res *Result, hits []hit, hasCode bool) {
	byRule := map[*rule][]hit{}
	for _, h := range hits {
		byRule[h.rule] = append(byRule[h.rule], h)
	}
	for _, r := range s.rules {
		hs := byRule[r]
		if r.Control {
			cs := ControlStatus{RuleID: r.ID, Name: r.controlName, Present: len(hs) > 0}
			if cs.Present {
				slices.SortFunc(hs, compareHits)
				cs.Evidence = hitText(hs[0])
			}
			res.Controls = append(res.Controls, cs)
			// Without code, absence proves nothing: the DEX may be unreadable.
			if !cs.Present && hasCode && r.absent != "" && r.Severity >= s.opts.MinSeverity {
				// A missing control is a property of the whole app; the
				// application element is where a reader (and SARIF) can
				// anchor it.
				f := newFinding(r, r.absent, manLoc("application"), "")
				f.ComputeFingerprint()
				res.Findings = append(res.Findings, f)
			}
			continue
		}
		if r.Severity < s.opts.MinSeverity || len(hs) == 0 {
			continue
		}
		seen := map[string]bool{}
		var fs []Finding
		for _, h := range hs {
			f := newFinding(r, h.msg, h.loc, h.evidence)
			if lib := cmpOr(h.library, sc.libraryOf(h.loc)); lib != "" {
				f.InLibrary, f.Library = true, lib
			}
			f.ComputeFingerprint()
			if seen[f.Fingerprint] {
				continue
			}
			seen[f.Fingerprint] = true
			fs = append(fs, f)
		}
		// The app's own findings rank first, so that the cap never drops
		// one of them in favour of a library's.
		sortFindings(fs)
		if len(fs) > s.opts.MaxFindingsPerRule {
			res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d findings, only the first %d reported", r.ID, len(fs), s.opts.MaxFindingsPerRule))
			fs = fs[:s.opts.MaxFindingsPerRule]
		}
		res.Findings = append(res.Findings, fs...)
	}
	if res.Findings == nil {
		res.Findings = []Finding{}
	}
	sortFindings(res.Findings)
}

// newFinding builds a finding of rule r with the rule's references.
func newFinding(r *rule, msg string, loc Location, evidence string) Finding {
	return Finding{RuleID: r.ID, Title: r.Title, Severity: r.Severity, Confidence: r.Confidence,
		Message: cmpOr(msg, r.Title), Location: loc, Evidence: evidence,
		CWE: r.Mappings.CWE, MASVS: r.Mappings.MASVS, Remediation: r.Remediation}
}

// sortFindings orders findings most severe first, then by rule, location,
// evidence and message, rendering each location once rather than in
// every comparison.
func sortFindings(fs []Finding) {
	type keyed struct {
		f   Finding
		loc string
	}
	ks := make([]keyed, len(fs))
	for i, f := range fs {
		ks[i] = keyed{f, f.Location.String()}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		return cmp.Or(cmp.Compare(b.f.Severity, a.f.Severity), compareBool(a.f.InLibrary, b.f.InLibrary), cmp.Compare(a.f.RuleID, b.f.RuleID), cmp.Compare(a.loc, b.loc),
			cmp.Compare(a.f.Evidence, b.f.Evidence), cmp.Compare(a.f.Message, b.f.Message))
	})
	for i := range ks {
		fs[i] = ks[i].f
	}
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

func compareHits(a, b hit) int {
	return cmp.Or(cmp.Compare(a.loc.String(), b.loc.String()), cmp.Compare(a.evidence, b.evidence))
}

func hitText(h hit) string {
	parts := []string{}
	if l := h.loc.String(); l != "" {
		parts = append(parts, l)
	}
	if h.evidence != "" {
		parts = append(parts, h.evidence)
	}
	if len(parts) == 0 {
		return h.msg
	}
	return strings.Join(parts, ": ")
}
