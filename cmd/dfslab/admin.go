package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/catalog"
	"github.com/dfslab/dfslab/internal/collab"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
)

// adminCommand is one `dfslab admin` subcommand. Results meant for scripts
// (a link, a token, an id) go to stdout alone on a line; explanations go to
// stderr.
type adminCommand struct {
	args    string
	summary string
	run     func(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error
	flags   func(fs *flag.FlagSet)
}

// adminEnv is what every subcommand gets: flags shared by all of them and
// the output streams.
type adminEnv struct {
	dsn           string
	baseURL       string
	secretKeyFile string
	stdout        io.Writer
	stderr        io.Writer
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func adminCommands() map[string]adminCommand {
	return map[string]adminCommand{
		"enrol-link": {"", "print a new one-time enrolment link for a platform administrator (valid 24 h)", adminEnrolLink, nil},
		"create-org": {"--name NAME --type TYPE --country CC", "create an organisation (types: " + orgTypeList() + ")", adminCreateOrg,
			func(fs *flag.FlagSet) {
				fs.String("name", "", "organisation `name`")
				fs.String("type", "", "organisation `type`: "+orgTypeList())
				fs.String("country", "", "jurisdiction: ISO 3166-1 alpha-2 `code`, e.g. MW")
			}},
		"create-user": {"--org ORG --email EMAIL --role ROLE", "invite an address to an organisation and print the invitation link", adminCreateUser,
			func(fs *flag.FlagSet) {
				fs.String("org", "", "organisation `name or id`")
				fs.String("email", "", "e-mail `address` of the user")
				fs.String("role", "viewer", "`role`: viewer, analyst or org_admin")
			}},
		"create-token": {"--user USER --scope read|write --expires 30d", "create a personal API token and print it (shown once)", adminCreateToken,
			func(fs *flag.FlagSet) {
				fs.String("user", "", "user `e-mail or id`")
				fs.String("scope", "read", "`scope`: read or write")
				fs.String("expires", "30d", "lifetime: `N`d, or a Go duration such as 12h (at most 366d)")
				fs.String("name", "CLI token", "token `name` shown in the user's token list")
			}},
		"recovery-link": {"--user USER", "print a one-time account recovery link for a user (valid 24 h)", adminRecoveryLink,
			func(fs *flag.FlagSet) { fs.String("user", "", "user `e-mail or id`") }},
		"suspend-user": {"--user USER", "suspend an account everywhere: end its sessions, revoke its API tokens", adminSuspendUser(false),
			func(fs *flag.FlagSet) { fs.String("user", "", "user `e-mail or id`") }},
		"reinstate-user": {"--user USER", "reinstate a suspended account (its API tokens stay revoked)", adminSuspendUser(true),
			func(fs *flag.FlagSet) { fs.String("user", "", "user `e-mail or id`") }},
		"verify-audit": {"[--head SEQ:HASH]...", "check the audit log's keyed hash chain and that it still holds the kept checkpoints; " +
			"names the first altered, removed or truncated entry (exit 1)", adminVerifyAudit,
			func(fs *flag.FlagSet) {
				fs.Var(new(listFlag), "head", "a checkpoint `SEQ:HASH` printed earlier by audit-head or logged by serve (repeatable)")
				fs.Var(new(listFlag), "old-secret-key-file", "`file` holding a former secret key, to verify the entries written under it (repeatable)")
			}},
		"audit-head": {"", "print the audit log's head as SEQ:HASH: keep it outside the server for verify-audit --head", adminAuditHead, nil},
		"backup":     {"FILE", "write a consistent copy of the running SQLite database to FILE (PostgreSQL: use pg_dump)", adminBackup, nil},
		"restore": {"FILE", "replace the SQLite database with the backup FILE (stop the server first)", adminRestore,
			func(fs *flag.FlagSet) {
				fs.Bool("yes", false, "do not ask: the server is stopped and the current data may be replaced")
			}},
	}
}

func orgTypeList() string {
	var s []string
	for _, t := range identity.OrgTypes() {
		s = append(s, string(t))
	}
	return strings.Join(s, ", ")
}

func addCommonFlags(fs *flag.FlagSet, a *adminEnv) {
	fs.StringVar(&a.dsn, "db", a.dsn, "database: a SQLite file (default "+db.DefaultPath+") or postgres://… (DFSLAB_DB)")
	fs.StringVar(&a.baseURL, "base-url", a.baseURL, "public `URL` of the platform, for links (DFSLAB_BASE_URL)")
	fs.StringVar(&a.secretKeyFile, "secret-key-file", a.secretKeyFile, secretKeyUsage)
}

func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &adminEnv{dsn: envOr("DFSLAB_DB", ""), baseURL: envOr("DFSLAB_BASE_URL", "http://localhost:8080"),
		secretKeyFile: envOr("DFSLAB_SECRET_KEY_FILE", ""), stdout: stdout, stderr: stderr}
	cmds := adminCommands()
	usage := func() {
		fmt.Fprintln(stderr, "usage: dfslab admin COMMAND [flags] [args]\n\ncommands:")
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-14s %s\n", n, cmds[n].summary)
		}
		fmt.Fprintln(stderr, "\nEvery command takes --db (DFSLAB_DB), --base-url (DFSLAB_BASE_URL) and --secret-key-file\n"+
			"(DFSLAB_SECRET_KEY_FILE, or the key in DFSLAB_SECRET_KEY: the same key as dfslab serve); all are audited.")
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "dfslab admin: unknown command %q\n\n", args[0])
		usage()
		return 2
	}
	fs := flag.NewFlagSet("dfslab admin "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	addCommonFlags(fs, a)
	if c.flags != nil {
		c.flags(fs)
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: dfslab admin %s [flags] %s\n\n%s\n\nflags:\n", args[0], c.args, c.summary)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	// The CLI acts as nobody in particular; entries say so by request id.
	ctx = audit.WithActor(ctx, audit.Actor{RequestID: "cli:admin " + args[0]})
	if err := c.run(ctx, a, fs, fs.Args()); err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "dfslab admin %s: %v\n", args[0], err)
			fs.Usage()
			return 2
		}
		fmt.Fprintf(stderr, "dfslab admin %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func flagValue(fs *flag.FlagSet, name string) string { return fs.Lookup(name).Value.String() }

func required(fs *flag.FlagSet, names ...string) error {
	for _, n := range names {
		if strings.TrimSpace(flagValue(fs, n)) == "" {
			return usageError{"--" + n + " is required"}
		}
	}
	return nil
}

func noArgs(args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", args[0])}
	}
	return nil
}

func (a *adminEnv) open(ctx context.Context) (*db.DB, *identity.Store, error) {
	d, key, err := a.openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	// Notifications go through the collaboration store, as under serve.
	cat, err := catalog.Default()
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, identity.NewStore(d, identity.Options{SecretKey: key, Notifier: collab.NewStore(d, cat, nil)}), nil
}

func adminEnrolLink(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	d, s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	tok, l, err := s.EnrolLink(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "One-time enrolment link for a platform administrator, valid until %s:\n", l.Expires.Format(time.RFC3339))
	fmt.Fprintln(a.stdout, identity.LinkURL(a.baseURL, l.Kind, tok))
	return nil
}

func adminCreateOrg(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	if err := required(fs, "name", "type", "country"); err != nil {
		return err
	}
	if err := noArgs(args); err != nil {
		return err
	}
	d, s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	o, err := s.CreateOrg(ctx, identity.NewOrg{Name: flagValue(fs, "name"), Type: identity.OrgType(flagValue(fs, "type")), Country: flagValue(fs, "country")})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Created organisation %q (%s, %s) with id:\n", o.Name, o.Type.Label(), o.Country)
	fmt.Fprintln(a.stdout, o.ID)
	return nil
}

// findOrg accepts an id or a name.
func findOrg(ctx context.Context, s *identity.Store, ref string) (identity.Org, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return s.Org(ctx, id)
	}
	return s.OrgByName(ctx, ref)
}

// findUser accepts an id or an e-mail address.
func findUser(ctx context.Context, s *identity.Store, ref string) (identity.User, error) {
	if id, err := strconv.ParseInt(ref, 10, 64); err == nil {
		return s.User(ctx, id)
	}
	return s.UserByEmail(ctx, ref)
}

func adminCreateUser(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	if err := required(fs, "org", "email", "role"); err != nil {
		return err
	}
	if err := noArgs(args); err != nil {
		return err
	}
	role := identity.Role(flagValue(fs, "role"))
	if !role.Valid() {
		return usageError{fmt.Sprintf("unknown role %q (viewer, analyst, org_admin)", role)}
	}
	d, s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	o, err := findOrg(ctx, s, flagValue(fs, "org"))
	if err != nil {
		return fmt.Errorf("organisation %q: %w", flagValue(fs, "org"), err)
	}
	inv, err := s.Invite(ctx, o.ID, flagValue(fs, "email"), role)
	if err != nil {
		return err
	}
	// The same answer whether or not the address has an account: the
	// person enrols with the link, or signs in and accepts.
	fmt.Fprintf(a.stderr, "Invitation link for %s (%s of %s), valid until %s; hand it over in person or by a trusted channel.\n"+
		"The person sets up an account with it, or, if the address has one, signs in and accepts:\n",
		inv.Email, role.Label(), o.Name, inv.Expires.Format(time.RFC3339))
	fmt.Fprintln(a.stdout, identity.LinkURL(a.baseURL, identity.LinkInvitation, inv.Token))
	return nil
}

// parseLifetime reads "30d" or a Go duration ("12h").
func parseLifetime(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("bad lifetime %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad lifetime %q: use Nd or a duration like 12h", s)
	}
	return d, nil
}

func adminCreateToken(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	if err := required(fs, "user", "scope", "expires"); err != nil {
		return err
	}
	if err := noArgs(args); err != nil {
		return err
	}
	scope := identity.Scope(flagValue(fs, "scope"))
	if !scope.Valid() {
		return usageError{fmt.Sprintf("unknown scope %q (read or write)", scope)}
	}
	life, err := parseLifetime(flagValue(fs, "expires"))
	if err != nil {
		return usageError{err.Error()}
	}
	d, s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := findUser(ctx, s, flagValue(fs, "user"))
	if err != nil {
		return fmt.Errorf("user %q: %w", flagValue(fs, "user"), err)
	}
	tok, t, err := s.CreateAPIToken(ctx, u.ID, flagValue(fs, "name"), scope, s.Now().Add(life))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "API token %s… for %s, scope %s, expires %s. It is shown only now:\n",
		t.Prefix, u.Email, t.Scope, t.Expires.Format(time.RFC3339))
	fmt.Fprintln(a.stdout, tok)
	return nil
}

func adminRecoveryLink(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	if err := required(fs, "user"); err != nil {
		return err
	}
	if err := noArgs(args); err != nil {
		return err
	}
	d, s, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := findUser(ctx, s, flagValue(fs, "user"))
	if err != nil {
		return fmt.Errorf("user %q: %w", flagValue(fs, "user"), err)
	}
	rl, err := s.IssueRecoveryLink(ctx, 0, u.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Recovery link for %s, valid until %s; confirm the person's identity before handing it over.\n"+
		"The person and the org admins of their %d organisation(s) are notified in the app:\n",
		u.Email, rl.Link.Expires.Format(time.RFC3339), len(rl.Orgs))
	fmt.Fprintln(a.stdout, identity.LinkURL(a.baseURL, rl.Link.Kind, rl.Token))
	return nil
}

// adminSuspendUser suspends (active false) or reinstates an account: the
// operator's way when no platform administrator can (the last one lost
// their passkeys, or is the one to suspend).
func adminSuspendUser(active bool) func(context.Context, *adminEnv, *flag.FlagSet, []string) error {
	return func(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
		if err := required(fs, "user"); err != nil {
			return err
		}
		if err := noArgs(args); err != nil {
			return err
		}
		d, s, err := a.open(ctx)
		if err != nil {
			return err
		}
		defer d.Close()
		u, err := findUser(ctx, s, flagValue(fs, "user"))
		if err != nil {
			return fmt.Errorf("user %q: %w", flagValue(fs, "user"), err)
		}
		if err := s.SetActive(ctx, u.ID, active); err != nil {
			return err
		}
		if active {
			fmt.Fprintf(a.stderr, "%s reinstated; API tokens revoked at suspension stay revoked.\n", u.Email)
		} else {
			fmt.Fprintf(a.stderr, "%s suspended: sessions ended, API tokens revoked.\n", u.Email)
		}
		return nil
	}
}

// openDB reads the secret key, then opens the database with the audit
// chain keys derived from it (and from former keys), so that the command's
// own audit entries chain like the server's. The key is read first, so
// that a wrong key setting fails before anything is written.
func (a *adminEnv) openDB(ctx context.Context, former ...[]byte) (*db.DB, []byte, error) {
	keys, key, err := a.keys(former...)
	if err != nil {
		return nil, nil, err
	}
	d, err := db.Open(ctx, a.dsn, keys)
	if err != nil {
		return nil, nil, err
	}
	return d, key, nil
}

// keys reads the secret key and returns it with the database option that
// carries the audit keys derived from it and from former keys.
func (a *adminEnv) keys(former ...[]byte) (db.Option, []byte, error) {
	key, warning, err := loadSecretKey(a.secretKeyFile)
	if err != nil {
		return nil, nil, err
	}
	if warning != "" {
		fmt.Fprintln(a.stderr, "warning:", warning)
	}
	opt, err := auditKeys(key, former...)
	return opt, key, err
}

func adminVerifyAudit(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	var kept []audit.Checkpoint
	for _, v := range *fs.Lookup("head").Value.(*listFlag) {
		c, err := audit.ParseCheckpoint(v)
		if err != nil {
			return usageError{err.Error()}
		}
		kept = append(kept, c)
	}
	var former [][]byte
	for _, file := range *fs.Lookup("old-secret-key-file").Value.(*listFlag) {
		k, warning, err := loadSecretKeyFile(file)
		if err != nil {
			return fmt.Errorf("--old-secret-key-file: %w", err)
		}
		if warning != "" {
			fmt.Fprintln(a.stderr, "warning:", warning)
		}
		former = append(former, k)
	}
	d, _, err := a.openDB(ctx, former...)
	if err != nil {
		return err
	}
	defer d.Close()
	rep, verr := audit.Verify(ctx, d, kept...)
	// The check itself is audited, with its outcome; the entry is appended
	// after the walk so it never hides a problem at the head.
	details := map[string]any{"entries": rep.Entries, "head_seq": rep.HeadSeq, "checkpoints": len(kept), "ok": verr == nil}
	if verr != nil {
		details["problem"] = verr.Error()
	}
	if verr != nil {
		fmt.Fprintln(a.stdout, verr)
	}
	e, err := audit.Record(ctx, d, audit.Entry{Action: "audit.verify", ObjectType: "audit_log", Details: details})
	if err != nil {
		return errors.Join(verr, err)
	}
	if verr != nil {
		return errors.New("audit log failed verification")
	}
	fmt.Fprintf(a.stdout, "audit log intact: %d entries, head %s\n", rep.Entries, rep.Head())
	switch {
	case rep.Unkeyed == rep.Entries && rep.Entries > 0:
		fmt.Fprintln(a.stdout, "not keyed: no secret key is configured, so anyone who can write to the database could rewrite the chain; only kept checkpoints prove anything")
	case rep.Unkeyed > 0:
		fmt.Fprintf(a.stdout, "keyed from entry %d; the %d entries before are not keyed (written before the key was configured) and are proven only up to a kept checkpoint\n",
			rep.KeyedFrom, rep.Unkeyed)
	}
	if len(kept) > 0 {
		fmt.Fprintf(a.stdout, "the chain holds all %d kept checkpoint(s)\n", rep.Checkpoints)
	} else {
		fmt.Fprintln(a.stdout, "no --head given: entries removed from the end cannot be detected without a checkpoint kept elsewhere")
	}
	fmt.Fprintf(a.stderr, "This check is entry %d; its checkpoint:\n", e.Seq)
	fmt.Fprintln(a.stdout, audit.Checkpoint{Seq: e.Seq, Hash: e.Hash})
	return nil
}

// listFlag is a flag that may be given several times; it keeps every
// value in order.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// adminAuditHead records that the head was taken, and prints the head
// (that very entry) as SEQ:HASH: a checkpoint that also covers its own
// taking.
func adminAuditHead(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	d, _, err := a.openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	e, err := audit.Record(ctx, d, audit.Entry{Action: "audit.head", ObjectType: "audit_log"})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Head of the audit log (entry %d, %s). Keep it outside this server (a ticket, another system, paper);\n"+
		"dfslab admin verify-audit --head SEQ:HASH then detects removal of entries up to it and rewriting:\n", e.Seq, keyedWord(e.KeyID))
	fmt.Fprintln(a.stdout, audit.Checkpoint{Seq: e.Seq, Hash: e.Hash})
	return nil
}

func keyedWord(keyID string) string {
	if keyID == "" {
		return "not keyed: no secret key is configured"
	}
	return "keyed with key " + keyID
}

func oneFile(args []string) (string, error) {
	if len(args) != 1 || args[0] == "" {
		return "", usageError{"exactly one FILE is required"}
	}
	return args[0], nil
}

func adminBackup(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	file, err := oneFile(args)
	if err != nil {
		return err
	}
	d, _, err := a.openDB(ctx)
	if err != nil {
		return err
	}
	defer d.Close()
	if d.Dialect() != db.SQLite {
		return fmt.Errorf("%w (e.g. pg_dump --format=custom --file=%s DSN)", db.ErrNotSQLite, file)
	}
	// Record first, so the copy carries the entry that describes it.
	if _, err := audit.Record(ctx, d, audit.Entry{Action: "db.backup", ObjectType: "database",
		Details: map[string]any{"file": filepath.Base(file)}}); err != nil {
		return err
	}
	if err := d.Backup(ctx, file); err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Backup of %s written to:\n", d.Path())
	fmt.Fprintln(a.stdout, file)
	return nil
}

func adminRestore(ctx context.Context, a *adminEnv, fs *flag.FlagSet, args []string) error {
	file, err := oneFile(args)
	if err != nil {
		return err
	}
	if db.IsPostgres(a.dsn) {
		return fmt.Errorf("%w (pg_restore)", db.ErrNotSQLite)
	}
	keys, _, err := a.keys()
	if err != nil {
		return err
	}
	dest := db.SQLitePath(a.dsn)
	if _, err := os.Stat(dest); err == nil && flagValue(fs, "yes") != "true" {
		return usageError{fmt.Sprintf("%s exists; stop the server and pass --yes to replace it (the current file is kept beside it)", dest)}
	}
	kept, err := db.Restore(ctx, file, dest)
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, a.dsn, keys)
	if err != nil {
		return fmt.Errorf("restored %s but cannot open it: %w", dest, err)
	}
	defer d.Close()
	if _, err := audit.Record(ctx, d, audit.Entry{Action: "db.restore", ObjectType: "database",
		Details: map[string]any{"file": filepath.Base(file), "kept": filepath.Base(kept)}}); err != nil {
		return err
	}
	if kept != "" {
		fmt.Fprintf(a.stderr, "Previous database kept as %s\n", kept)
	}
	fmt.Fprintf(a.stderr, "Restored %s from:\n", dest)
	fmt.Fprintln(a.stdout, file)
	return nil
}
