package applab_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/apk/apktest"
	"github.com/dfslab/dfslab/internal/apk/axml"
	"github.com/dfslab/dfslab/internal/applab"
	"github.com/dfslab/dfslab/internal/audit"
	"github.com/dfslab/dfslab/internal/blob"
	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/identity"
	"github.com/dfslab/dfslab/internal/identity/identitytest"
)

// fixture is a database with a Malawian market (regulator MACRA, central
// bank RBM, providers p1 and p2), a Kenyan regulator and provider, and
// one user per role in each organisation.
type fixture struct {
	t     testing.TB
	db    *db.DB
	now   time.Time
	ids   *identity.Store
	store *applab.Store
	lab   *applab.Lab
	run   *applab.Runner
	orgs  map[string]applab.Org
	users map[string]int64
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, db: d, now: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), orgs: map[string]applab.Org{}, users: map[string]int64{}}
	clock := func() time.Time { return f.now }
	f.ids = identity.NewStore(d, identity.Options{Now: clock})
	f.store = applab.NewStore(d, clock)
	f.lab = applab.NewLab(f.store, nil, nil)
	f.run = applab.NewRunner(f.lab)
	w := identitytest.Seed(t, f.ids)
	for key, org := range w.Orgs {
		f.orgs[key] = applab.Org{ID: org.ID, Name: org.Name, Type: org.Type, Country: org.Country}
	}
	f.users = w.Users
	return f
}

// as returns a context in which user acts.
func (f *fixture) as(user string) context.Context {
	id, ok := f.users[user]
	if !ok {
		f.t.Fatalf("no user %q", user)
	}
	return audit.WithActor(context.Background(), audit.Actor{UserID: id})
}

// build makes a test app: version code/name, and two weaknesses that can
// be switched on (debuggable build, cleartext traffic).
func build(t testing.TB, pkg string, code int, debuggable, cleartext bool) []byte {
	t.Helper()
	a := &apktest.App{Package: pkg,
		ManifestAttrs: []axml.Attr{apktest.A("versionCode", axml.Int(int32(code))), apktest.A("versionName", axml.Str(fmt.Sprintf("%d.0", code)))},
		Permissions:   []string{"android.permission.INTERNET"},
	}
	if debuggable {
		a.AppAttrs = append(a.AppAttrs, apktest.A("debuggable", axml.Bool(true)))
	}
	if cleartext {
		a.AppAttrs = append(a.AppAttrs, apktest.A("usesCleartextTraffic", axml.Bool(true)))
	}
	b, err := a.Build()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload reads and stores an app for owner, as uploader, and returns its scan.
func (f *fixture) upload(user string, owner, uploader string, app []byte) applab.Scan {
	f.t.Helper()
	up, err := applab.ReadApp(bytes.NewReader(app), "app.apk", 50<<20, f.t.(interface{ TempDir() string }).TempDir())
	if err != nil {
		f.t.Fatal(err)
	}
	defer up.Close()
	sc, err := f.store.NewScan(f.as(user), f.orgs[owner], f.orgs[uploader], f.users[user], up, "app.apk", nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return sc
}

// drain runs every queued scan.
func (f *fixture) drain() {
	f.t.Helper()
	for {
		did, err := f.run.RunOnce(context.Background())
		if err != nil {
			f.t.Fatal(err)
		}
		if !did {
			return
		}
	}
}

func (f *fixture) count(table string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var _ = blob.ZIP

// zipOf builds a deflated zip of files (sorted names, for stable output).
func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	names := slices.Sorted(maps.Keys(files))
	for _, n := range names {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: n, Method: zip.Deflate})
		must(t, err)
		_, err = w.Write(files[n])
		must(t, err)
	}
	must(t, zw.Close())
	return b.Bytes()
}

// noise is n bytes that do not compress.
func noise(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{1}).Read(b)
	return b
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
