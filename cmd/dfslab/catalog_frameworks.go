package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/catalog/framework"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/frameworks"
)

// parseInterspersed parses flags that may come before or after the
// positional arguments (`import FILE --format oscal` as well as
// `import --format oscal FILE`), which the flag package alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// openExisting opens the platform database without creating a missing
// SQLite file: a typing error in --db must not start an empty platform.
func openExisting(ctx context.Context, dsn string) (*db.DB, error) {
	if !db.IsPostgres(dsn) {
		if _, err := os.Stat(db.SQLitePath(dsn)); err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
	}
	return db.Open(ctx, dsn)
}

// catalogImport implements `dfslab catalog import`: read a framework
// (dfslab YAML or OSCAL catalog JSON), check it whole, and store it as
// the next version of its framework in the platform database.
func catalogImport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dfslab catalog import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", "", "platform database (SQLite file or postgres://…); required")
	format := fs.String("format", "", "yaml (dfslab framework YAML) or oscal (OSCAL 1.1 catalog JSON); default: recognised from the content")
	mappings := fs.String("mappings", "", "a mapping file (YAML) whose mappings are added to the framework's own")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dfslab catalog import --db DSN FILE [--format yaml|oscal] [--mappings FILE]")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if len(pos) != 1 || *dsn == "" {
		fs.Usage()
		return 2
	}
	switch *format {
	case "", framework.FormatYAML, framework.FormatOSCAL:
	default:
		fmt.Fprintf(stderr, "dfslab catalog import: unknown format %q (want yaml or oscal)\n", *format)
		return 2
	}
	data, err := readLimited(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog import:", err)
		return 1
	}
	if *format == "" {
		*format = framework.Sniff(data)
	}
	cat, err := catalog.Load()
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog:", err)
		return 1
	}
	known := func(id string) bool { _, err := cat.Get(id); return err == nil }
	fw, err := framework.Parse(data, *format, known)
	if err == nil && *mappings != "" {
		var m []byte
		if m, err = readLimited(*mappings); err == nil {
			err = framework.ApplyMappings(fw, m, known)
		}
	}
	if err != nil {
		var ve *framework.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(stderr, "dfslab catalog import: %s refused, nothing imported:\n", pos[0])
			for _, p := range ve.Problems {
				fmt.Fprintf(stderr, "  %s\n", p)
			}
			return 1
		}
		fmt.Fprintln(stderr, "dfslab catalog import:", err)
		return 1
	}
	ctx = audit.WithActor(ctx, audit.Actor{RequestID: "cli:catalog import"})
	d, err := openExisting(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog import:", err)
		return 1
	}
	defer d.Close()
	out, err := frameworks.NewStore(d, known, time.Now).Import(ctx, fw, data, filepath.Base(pos[0]))
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog import:", err)
		return 1
	}
	fmt.Fprintf(stdout, "imported %s (%s, version %s) as import %d: %d controls, %d mappings\n",
		out.Key, out.Title, out.Version, out.Revision, out.Controls, out.Mappings)
	return 0
}

// readLimited reads a file of at most framework.MaxSize bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, framework.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > framework.MaxSize {
		return nil, fmt.Errorf("%s: %w", path, framework.ErrTooLarge)
	}
	return b, nil
}

// catalogFrameworks implements `dfslab catalog frameworks`: list the
// imported frameworks (newest import of each).
func catalogFrameworks(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dfslab catalog frameworks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("db", "", "platform database (SQLite file or postgres://…); required")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 || *dsn == "" {
		fmt.Fprintln(stderr, "usage: dfslab catalog frameworks --db DSN")
		return 2
	}
	d, err := openExisting(ctx, *dsn)
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog frameworks:", err)
		return 1
	}
	defer d.Close()
	list, err := frameworks.NewStore(d, nil, time.Now).List(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog frameworks:", err)
		return 1
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "no framework imported")
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tPUBLISHER\tVERSION\tIMPORT\tCONTROLS\tMAPPINGS\tIMPORTED")
	for _, f := range list {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", f.Key, f.Title, f.Publisher, f.Version, f.Revision,
			f.Controls, f.Mappings, f.ImportedAt.Format("2006-01-02 15:04 UTC"))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintln(stderr, "dfslab catalog frameworks:", err)
		return 1
	}
	return 0
}
