package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
)

// runCatalog implements `dfslab catalog`: export the recommendations
// catalogue (JSON, CSV, OSCAL 1.1 catalog), print summary counts, and
// import and list other frameworks mapped to it.
func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	usage := func() {
		fmt.Fprintln(stderr, "usage: dfslab catalog export [--format json|csv|oscal] [--output FILE]")
		fmt.Fprintln(stderr, "       dfslab catalog stats")
		fmt.Fprintln(stderr, "       dfslab catalog import --db DSN FILE [--format yaml|oscal] [--mappings FILE]")
		fmt.Fprintln(stderr, "       dfslab catalog frameworks --db DSN")
	}
	if len(args) == 0 {
		usage()
		return 2
	}
	switch args[0] {
	case "export":
		return catalogExport(args[1:], stdout, stderr)
	case "import":
		return catalogImport(ctx, args[1:], stdout, stderr)
	case "frameworks":
		return catalogFrameworks(ctx, args[1:], stdout, stderr)
	case "stats":
		c, err := catalog.Load()
		if err != nil {
			fmt.Fprintln(stderr, "dfslab catalog:", err)
			return 1
		}
		// Withdrawn items are counted apart: they are kept for the
		// baselines that name them, not as requirements.
		fmt.Fprintf(stdout, "catalogue version %s: %d recommendations (%d withdrawn, not counted)\n", c.Version, len(c.Recommendations), len(c.Withdrawn))
		perLayer, perPriority := map[string]int{}, map[string]int{}
		for _, r := range c.Recommendations {
			perLayer[r.Layer]++
			perPriority[r.Priority]++
		}
		for _, l := range c.Layers {
			fmt.Fprintf(stdout, "  %-40s %3d\n", l.Name, perLayer[l.Key])
		}
		fmt.Fprintln(stdout, "by priority:")
		for _, p := range c.Priorities {
			fmt.Fprintf(stdout, "  %-40s %3d\n", p.Name, perPriority[p.Key])
		}
		return 0
	case "-h", "--help", "help":
		usage()
		return 0
	default:
		fmt.Fprintf(stderr, "dfslab catalog: unknown subcommand %q\n", args[0])
		usage()
		return 2
	}
}

func catalogExport(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dfslab catalog export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "json", "export format: json, csv or oscal (OSCAL 1.1 catalog JSON)")
	output := fs.String("output", "", "write to this file instead of standard output")
	fs.StringVar(output, "o", "", "shorthand for --output")
	dsn := fs.String("db", "", "platform database (SQLite file or postgres://…): export the catalogue with the amendments accepted there (DFSLAB_DB is not read, so an export never touches a database by accident)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dfslab catalog export: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	c, err := catalog.Load()
	if err != nil {
		fmt.Fprintln(stderr, "dfslab catalog:", err)
		return 1
	}
	if *dsn != "" {
		if c, err = amendedCatalogue(context.Background(), *dsn, c); err != nil {
			fmt.Fprintln(stderr, "dfslab catalog export:", err)
			return 1
		}
	}
	switch *format {
	case catalog.FormatJSON, catalog.FormatCSV, catalog.FormatOSCAL:
	default:
		fmt.Fprintf(stderr, "dfslab catalog export: unknown format %q (want json, csv or oscal)\n", *format)
		return 2
	}
	if err := writeOutput(*output, stdout, func(w io.Writer) error { return c.Export(w, *format) }); err != nil {
		fmt.Fprintln(stderr, "dfslab catalog export:", err)
		return 1
	}
	return 0
}

// amendedCatalogue applies the amendments accepted on the platform (see
// internal/collab) to the embedded catalogue.
func amendedCatalogue(ctx context.Context, dsn string, base *catalog.Catalog) (*catalog.Catalog, error) {
	if !db.IsPostgres(dsn) {
		// db.Open would create a missing SQLite file; an export must not.
		if _, err := os.Stat(db.SQLitePath(dsn)); err != nil {
			return nil, fmt.Errorf("database: %w", err)
		}
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	ams, err := collab.NewStore(d, base, time.Now).Amendments(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading accepted amendments: %w", err)
	}
	return base.Amend(ams)
}
