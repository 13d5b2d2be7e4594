package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/dfslab/dfslab/internal/appscan"
	"github.com/dfslab/dfslab/internal/appscan/baseline"
	"github.com/dfslab/dfslab/internal/appscan/report"
	"github.com/dfslab/dfslab/internal/appscan/suppress"
)

// docs/rules.md is generated from the rule metadata; TestRulesDocUpToDate
// fails when it is stale. Regenerate with `go generate ./cmd/dfslab`.
//go:generate sh -c "go run . scan --list-rules --format markdown > ../../docs/rules.md"

// Exit codes of dfslab scan; CI pipelines depend on them.
const (
	exitOK       = 0 // nothing at or above --fail-on
	exitFindings = 1 // findings at or above --fail-on
	exitUsage    = 2 // bad usage, or an input could not be read (the report is still written)
)

// appExtensions are the files a folder argument is searched for.
var appExtensions = []string{".apk", ".aab", ".apks", ".xapk"}

// fileScanner is what the command needs from the scan engine.
type fileScanner interface {
	ScanFile(ctx context.Context, path string) (*appscan.Result, error)
}

// scanConfig is what the command passes to the engine.
type scanConfig struct {
	Rules, Exclude   []string // rule ID prefixes
	Workers          int      // goroutines per file
	IncludeLibraries bool     // count findings in library code in the score
}

// scanDeps are the command's links to the outside world, replaced in tests.
type scanDeps struct {
	newScanner func(scanConfig) fileScanner
	rules      func() []appscan.RuleMeta
	now        func() time.Time
	getenv     func(string) string
	isTerminal func(w io.Writer) bool
	version    string
}

func defaultScanDeps() scanDeps {
	return scanDeps{
		newScanner: engineScanner,
		rules:      engineRules,
		now:        time.Now,
		getenv:     os.Getenv,
		isTerminal: isTerminal,
		version:    buildVersion(),
	}
}

// engineScanner connects the scan engine of internal/appscan.
func engineScanner(c scanConfig) fileScanner {
	return appscan.NewScanner(appscan.Options{Rules: c.Rules, Exclude: c.Exclude, Workers: c.Workers, IncludeLibraries: c.IncludeLibraries})
}

func engineRules() []appscan.RuleMeta { return appscan.Rules() }

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return scanMain(ctx, args, stdout, stderr, defaultScanDeps())
}

// scanFlags are the parsed command line.
type scanFlags struct {
	format     report.Format
	output     string
	failOn     appscan.Severity
	failNever  bool
	baseline   string
	ignore     string
	ignoreSet  bool
	listRules  bool
	include    []string
	exclude    []string
	jobs       int
	noProgress bool
	// includeLibraries counts findings in library code in the score and
	// for --fail-on.
	includeLibraries bool
	// sourceRoot and manifest anchor SARIF results in the repository.
	sourceRoot string
	manifest   string
	paths      []string
}

const scanUsage = `usage: dfslab scan [flags] PATH...

Scans Android apps (APK, AAB, APKS, XAPK) without decompiling them. A PATH
that is a folder is searched recursively for those files. Flags may come
before or after the paths.

Exit status: 0 nothing at or above --fail-on, 1 findings at or above it,
2 usage error or an input that could not be read (the report is still
written for the others).

flags:
`

func parseScanFlags(args []string, stderr io.Writer) (*scanFlags, error) {
	sf := &scanFlags{}
	fset := flag.NewFlagSet("dfslab scan", flag.ContinueOnError)
	// Errors are printed once, by the caller; the full usage only for -h.
	fset.SetOutput(io.Discard)
	fset.Usage = func() {}
	format := fset.String("format", "text", "report `format`: text, json, sarif, html or markdown")
	fset.StringVar(&sf.output, "output", "", "write the report to `FILE` (atomically) instead of standard output")
	fset.StringVar(&sf.output, "o", "", "shorthand for --output `FILE`")
	failOn := fset.String("fail-on", "none", "exit 1 when a finding has this `severity` or above: critical, high, medium, low, info or none")
	fset.StringVar(&sf.baseline, "baseline", "", "compare with the JSON report in `FILE` from an earlier scan: report only new findings, list fixed ones")
	fset.StringVar(&sf.ignore, "ignore", "", "suppressions `FILE` (default "+suppress.DefaultFile+" in the current directory when present)")
	fset.BoolVar(&sf.listRules, "list-rules", false, "list the rules in --format and exit")
	include := fset.String("rules", "", "only the rules in `LIST`: comma-separated IDs, ID prefixes or globs")
	exclude := fset.String("exclude-rules", "", "skip the rules in `LIST` (same syntax as --rules)")
	fset.IntVar(&sf.jobs, "j", runtime.GOMAXPROCS(0), "scan `N` files in parallel")
	fset.BoolVar(&sf.noProgress, "no-progress", false, "never show the progress bar")
	fset.StringVar(&sf.sourceRoot, "source-root", "", "SARIF: map findings to source files and lines of the repository checked out in `DIR` (needs DEX debug info)")
	fset.StringVar(&sf.manifest, "manifest", "", "SARIF: map manifest findings to the lines of the repository's AndroidManifest.xml in `FILE`")
	fset.BoolVar(&sf.includeLibraries, "include-libraries", false, "count findings in the code of known libraries in the score and for --fail-on (they are reported apart either way)")

	// Everything after "--" is a path, even if it starts with "-".
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	// flag stops at the first non-flag argument; collect it as a path and
	// go on parsing, so that flags also work after the paths.
	for {
		if err := fset.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stderr, scanUsage)
				fset.SetOutput(stderr)
				fset.PrintDefaults()
			}
			return nil, err
		}
		rest := fset.Args()
		if len(rest) == 0 {
			break
		}
		sf.paths = append(sf.paths, rest[0])
		args = rest[1:]
	}
	sf.paths = append(sf.paths, tail...)
	fset.Visit(func(f *flag.Flag) {
		if f.Name == "ignore" {
			sf.ignoreSet = true
		}
	})

	var err error
	if sf.format, err = report.ParseFormat(*format); err != nil {
		return nil, err
	}
	if strings.EqualFold(*failOn, "none") {
		sf.failNever = true
	} else if sf.failOn, err = appscan.ParseSeverity(*failOn); err != nil {
		return nil, fmt.Errorf("--fail-on: %w (or none)", err)
	}
	if sf.jobs < 1 {
		return nil, fmt.Errorf("-j %d: need at least 1", sf.jobs)
	}
	sf.include, err = ruleList(*include)
	if err != nil {
		return nil, fmt.Errorf("--rules: %w", err)
	}
	sf.exclude, err = ruleList(*exclude)
	if err != nil {
		return nil, fmt.Errorf("--exclude-rules: %w", err)
	}
	if !sf.listRules && len(sf.paths) == 0 {
		return nil, errors.New("no PATH to scan")
	}
	if (sf.sourceRoot != "" || sf.manifest != "") && sf.format != report.SARIF {
		return nil, errors.New("--source-root and --manifest apply to --format sarif only")
	}
	return sf, nil
}

// sarifAnchors prepares the mapping of SARIF results into the repository:
// the checkout at --source-root (the current directory when only
// --manifest is given) and the manifest, which must lie inside it.
func sarifAnchors(sf *scanFlags) (*report.Anchors, error) {
	if sf.sourceRoot == "" && sf.manifest == "" {
		return nil, nil
	}
	root, err := filepath.Abs(cmp.Or(sf.sourceRoot, "."))
	if err != nil {
		return nil, fmt.Errorf("--source-root: %w", err)
	}
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--source-root %s: not a directory", sf.sourceRoot)
	}
	manifest := ""
	if sf.manifest != "" {
		abs, err := filepath.Abs(sf.manifest)
		if err != nil {
			return nil, fmt.Errorf("--manifest: %w", err)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || !filepath.IsLocal(rel) {
			return nil, fmt.Errorf("--manifest %s: not inside the source root %s", sf.manifest, cmp.Or(sf.sourceRoot, "."))
		}
		manifest = filepath.ToSlash(rel)
	}
	a, err := report.NewAnchors(os.DirFS(root), manifest)
	if err != nil {
		return nil, fmt.Errorf("--manifest: %w", err)
	}
	a.Root = root
	return a, nil
}

func ruleList(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("malformed pattern %q", p)
		}
		out = append(out, p)
	}
	return out, nil
}

// ruleSelected applies --rules and --exclude-rules: an entry matches an ID
// exactly, as a prefix ("DFS-NET-") or as a glob ("DFS-*-001").
func ruleSelected(id string, include, exclude []string) bool {
	match := func(list []string) bool {
		for _, p := range list {
			if ok, _ := path.Match(p, id); ok || strings.HasPrefix(id, p) {
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

// enginePrefixes keeps the entries the engine understands (IDs and
// prefixes). With a glob among the includes the engine runs every rule
// and the command filters the findings afterwards.
func enginePrefixes(list []string, isInclude bool) []string {
	var out []string
	for _, p := range list {
		if strings.ContainsAny(p, `*?[\`) {
			if isInclude {
				return nil
			}
			continue
		}
		out = append(out, p)
	}
	return out
}

func scanMain(ctx context.Context, args []string, stdout, stderr io.Writer, deps scanDeps) int {
	sf, err := parseScanFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "dfslab scan: %v\nRun 'dfslab scan -h' for usage.\n", err)
		return exitUsage
	}
	tool := report.DefaultTool(deps.version)
	var rules []appscan.RuleMeta
	for _, r := range deps.rules() {
		if ruleSelected(r.ID, sf.include, sf.exclude) {
			rules = append(rules, r)
		}
	}

	if sf.listRules {
		err := writeOutput(sf.output, stdout, func(w io.Writer) error {
			return report.WriteRules(w, sf.format, tool, rules)
		})
		if err != nil {
			fmt.Fprintf(stderr, "dfslab scan: %v\n", err)
			return exitUsage
		}
		return exitOK
	}

	// Read the baseline, the suppressions and the repository anchors
	// before scanning: a typo there should fail in a second, not after
	// minutes of scanning.
	anchors, err := sarifAnchors(sf)
	if err != nil {
		fmt.Fprintf(stderr, "dfslab scan: %v\n", err)
		return exitUsage
	}
	var base *baseline.Baseline
	if sf.baseline != "" {
		if base, err = baseline.Load(sf.baseline); err != nil {
			fmt.Fprintf(stderr, "dfslab scan: %v\n", err)
			return exitUsage
		}
	}
	var supp *suppress.File
	ignore := sf.ignore
	if !sf.ignoreSet {
		if _, err := os.Stat(suppress.DefaultFile); err == nil {
			ignore = suppress.DefaultFile
		}
	}
	if ignore != "" {
		if supp, err = suppress.Load(ignore); err != nil {
			fmt.Fprintf(stderr, "dfslab scan: %v\n", err)
			return exitUsage
		}
	}

	files, fileErrs := expandPaths(sf.paths)
	if len(files) == 0 && len(fileErrs) == 0 {
		fmt.Fprintf(stderr, "dfslab scan: no %s files under %s\n", strings.Join(appExtensions, ", "), strings.Join(sf.paths, ", "))
		return exitUsage
	}

	sc := deps.newScanner(scanConfig{
		Rules:   enginePrefixes(sf.include, true),
		Exclude: enginePrefixes(sf.exclude, false),
		// Files in parallel share the cores; each file then gets fewer.
		Workers:          max(1, runtime.GOMAXPROCS(0)/min(sf.jobs, max(1, len(files)))),
		IncludeLibraries: sf.includeLibraries,
	})
	var bar *progressbar.ProgressBar
	if len(files) > 1 && !sf.noProgress && deps.isTerminal(stderr) {
		bar = progressbar.NewOptions(len(files),
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionShowCount(),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionThrottle(100*time.Millisecond),
		)
	}
	results, scanErrs := scanFiles(ctx, sc, files, sf.jobs, bar)
	if bar != nil {
		_ = bar.Finish()
	}
	fileErrs = append(fileErrs, scanErrs...)

	for _, r := range results {
		r.Findings = slices.DeleteFunc(r.Findings, func(f appscan.Finding) bool {
			return !ruleSelected(f.RuleID, sf.include, sf.exclude)
		})
	}
	now := deps.now()
	// The baseline first: a known finding that is also suppressed must
	// not be reported as fixed. Suppressions then apply to the new ones.
	baseSummary := base.Apply(results)
	out := supp.Apply(results, now)
	if baseSummary != nil {
		baseSummary.New -= len(out.Suppressed)
	}
	doc := &report.Document{
		Tool:                tool,
		GeneratedAt:         now.UTC(),
		Results:             results,
		Errors:              fileErrs,
		Suppressed:          out.Suppressed,
		ExpiredSuppressions: out.Expired,
		Baseline:            baseSummary,
		IncludeLibraries:    sf.includeLibraries,
		Rules:               rules,
	}
	for _, r := range out.Expired {
		fmt.Fprintf(stderr, "dfslab scan: %s:%d: suppression of %s expired on %s and no longer applies\n",
			ignore, r.Line, r.RuleID, r.Expires.Format(time.DateOnly))
	}
	// A suppression that matches nothing is usually a fixed finding or a
	// typo in a rule ID; either way the file needs a look. Rule selection
	// and a baseline (which removes known findings first) make non-matching
	// expected, so stay quiet then.
	if len(sf.include)+len(sf.exclude) == 0 && len(fileErrs) == 0 && base == nil {
		for _, r := range out.Unused {
			fmt.Fprintf(stderr, "dfslab scan: %s:%d: note: suppression of %s matched no finding\n", ignore, r.Line, r.RuleID)
		}
	}

	color := sf.output == "" && sf.format == report.Text && deps.isTerminal(stdout) && deps.getenv("NO_COLOR") == ""
	err = writeOutput(sf.output, stdout, func(w io.Writer) error {
		return report.Write(w, sf.format, doc, report.Options{Color: color, Anchors: anchors})
	})
	if err != nil {
		fmt.Fprintf(stderr, "dfslab scan: %v\n", err)
		return exitUsage
	}
	for _, e := range fileErrs {
		fmt.Fprintf(stderr, "dfslab scan: %s: %s\n", e.Path, e.Error)
	}
	switch {
	case len(fileErrs) > 0:
		return exitUsage
	case !sf.failNever && doc.AtOrAbove(sf.failOn) > 0:
		if sf.output != "" || sf.format != report.Text {
			fmt.Fprintf(stderr, "dfslab scan: %d finding(s) at or above %s\n", doc.AtOrAbove(sf.failOn), sf.failOn)
		}
		return exitFindings
	}
	return exitOK
}

// expandPaths turns the arguments into the list of files to scan: files
// as given (whatever their extension: the user named them), folders
// searched recursively for app files, in a stable order.
func expandPaths(paths []string) ([]string, []report.FileError) {
	var files []string
	var errs []report.FileError
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			errs = append(errs, report.FileError{Path: p, Error: unwrapPathError(err)})
			continue
		}
		if !fi.IsDir() {
			add(p)
			continue
		}
		err = filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, report.FileError{Path: q, Error: unwrapPathError(err)})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && slices.Contains(appExtensions, strings.ToLower(filepath.Ext(q))) {
				add(q)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, report.FileError{Path: p, Error: err.Error()})
		}
	}
	return files, errs
}

func unwrapPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// scanFiles scans files with jobs workers and returns the results in the
// order of files, so that reports do not depend on scheduling.
func scanFiles(ctx context.Context, sc fileScanner, files []string, jobs int, bar *progressbar.ProgressBar) ([]*appscan.Result, []report.FileError) {
	type outcome struct {
		res *appscan.Result
		err error
	}
	outs := make([]outcome, len(files))
	next := make(chan int)
	done := make(chan struct{}, len(files))
	var wg sync.WaitGroup
	for range min(jobs, len(files)) {
		wg.Go(func() {
			for i := range next {
				res, err := scanOne(ctx, sc, files[i])
				outs[i] = outcome{res, err}
				done <- struct{}{}
			}
		})
	}
	go func() {
		defer close(next)
		for i := range files {
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	for range done {
		if bar != nil {
			_ = bar.Add(1)
		}
	}
	var results []*appscan.Result
	var errs []report.FileError
	for i, o := range outs {
		switch {
		case o.err != nil:
			// The engine names the file in its errors; the report has it in Path.
			msg := strings.TrimPrefix(o.err.Error(), files[i]+": ")
			errs = append(errs, report.FileError{Path: files[i], Error: msg})
		case o.res == nil && ctx.Err() != nil:
			errs = append(errs, report.FileError{Path: files[i], Error: "not scanned: " + ctx.Err().Error()})
		case o.res == nil:
			errs = append(errs, report.FileError{Path: files[i], Error: "scanner returned no result"})
		default:
			results = append(results, o.res)
		}
	}
	return results, errs
}

// scanOne turns a panic in the engine into an error for this file, so
// one hostile app cannot take down a batch.
func scanOne(ctx context.Context, sc fileScanner, file string) (res *appscan.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("internal error while scanning (please report): %v", p)
		}
	}()
	res, err = sc.ScanFile(ctx, file)
	if res != nil && res.Target.Path == "" {
		res.Target.Path = file
	}
	return res, err
}

// writeOutput runs write against stdout, or against a temporary file next
// to name that replaces name only once complete: a failed or interrupted
// scan never leaves a truncated report where CI expects a valid one.
func writeOutput(name string, stdout io.Writer, write func(io.Writer) error) error {
	if name == "" || name == "-" {
		return write(stdout)
	}
	// A device or pipe (/dev/null, /dev/stdout, a FIFO) is written in
	// place: renaming a temporary file over it would replace the device
	// node with a regular file.
	if fi, err := os.Stat(name); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(name, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		if err := write(f); err != nil {
			f.Close()
			return fmt.Errorf("write report: %w", err)
		}
		return f.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
