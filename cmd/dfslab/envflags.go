package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// envName is the environment twin of a flag: DFSLAB_ + the flag's name in
// upper case, dashes as underscores (--max-body: DFSLAB_MAX_BODY).
func envName(flagName string) string {
	return "DFSLAB_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv gives every flag of fs that the command line did not set the
// value of its environment twin, parsed by the flag itself: a twin that
// does not parse (DFSLAB_JOBS=abc, DFSLAB_SHUTDOWN_TIMEOUT=20) stops the
// command with an error naming the variable, instead of silently becoming
// a zero.
func applyEnv(fs *flag.FlagSet) error {
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if onCommandLine[f.Name] {
			return
		}
		name := envName(f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	})
	return errors.Join(errs...)
}
