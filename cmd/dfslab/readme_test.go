package main

import (
	"flag"
	"os"
	"strings"
	"testing"
)

// The README's Configuration section is the operator's reference: it must
// list every serve flag with its environment twin and default, and every
// admin command, or it drifts from the binary.
func TestReadmeConfigurationIsComplete(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| `") {
			name, _, _ := strings.Cut(strings.TrimPrefix(line, "| `"), "`")
			name, _, _ = strings.Cut(name, " ")
			rows[name] = line
		}
	}
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	serveFlags(fs, &c)
	fs.VisitAll(func(f *flag.Flag) {
		row, ok := rows["--"+f.Name]
		if !ok {
			t.Errorf("README: no row for serve --%s", f.Name)
			return
		}
		twin := "DFSLAB_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if !strings.Contains(row, "`"+twin+"`") {
			t.Errorf("README: row of --%s does not name %s", f.Name, twin)
		}
		// --jobs defaults to the number of CPUs of the machine at hand.
		if _, set := os.LookupEnv(twin); !set && f.Name != "jobs" && f.DefValue != "" && !strings.Contains(row, "`"+f.DefValue+"`") {
			t.Errorf("README: row of --%s does not give the default %q", f.Name, f.DefValue)
		}
	})
	for name := range adminCommands() {
		if _, ok := rows[name]; !ok {
			t.Errorf("README: no row for admin %s", name)
		}
	}
	if !strings.Contains(section, "pg_dump") {
		t.Error("README: PostgreSQL backups (pg_dump) not mentioned")
	}
}
