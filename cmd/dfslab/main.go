// Command dfslab is the DFS Security Lab: the platform (serve, worker), the
// standalone Android app scanner (scan) and the operator tools (admin).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand. It returns the process exit code so that each
// subcommand owns its exit-code contract (scan: 0/1/2).
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"scan":    {"static security scan of Android apps (APK, AAB, APKS/XAPK, folders)", runScan},
		"serve":   {"run the platform: web UI, JSON API, background jobs", runServe},
		"worker":  {"run background jobs only (app scans), beside serve or on other hosts", runWorker},
		"catalog": {"export the DFS security recommendations catalogue (JSON, CSV, OSCAL)", runCatalog},
		"admin":   {"operator tools: enrolment links, organisations, users, tokens, audit, backup", runAdmin},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "dfslab: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: dfslab COMMAND [flags] [args]")
	fmt.Fprintln(w, "\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-7s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'dfslab COMMAND -h' for the flags of a command.")
}
