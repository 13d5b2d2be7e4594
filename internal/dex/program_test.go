package dex

import (
	"slices"
	"testing"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// multidexApp is an app split over two files: the activity's superclass
// lives in classes.dex, the activity in classes2.dex; two classes are
// defined twice, in both files.
func multidexApp(t testing.TB) *Program {
	one := dexbuild.New()
	one.Class("Lcom/app/BaseActivity;").Extends("Landroid/app/Activity;").Method("helper", "()V")
	one.Class("Lcom/app/TrustAll;").Implements("Ljavax/net/ssl/X509TrustManager;")
	one.Class("Lcom/app/Dup;").Extends("Lcom/app/First;")
	two := dexbuild.New()
	two.Class("Lcom/app/MainActivity;").Extends("Lcom/app/BaseActivity;").Method("go", "()V")
	two.Class("Lcom/app/Dup;").Extends("Lcom/app/Second;")
	return mustProgram(t, one, two)
}

// TestHierarchy: supertypes come from the app's classes across files (the
// first definition wins, as with the platform's class loader) and from
// the built-in framework table; unknown classes have none.
func TestHierarchy(t *testing.T) {
	p := multidexApp(t)
	supers := []struct {
		class, want string
		ok          bool
	}{
		{"Lcom/app/MainActivity;", "Lcom/app/BaseActivity;", true},
		{"Lcom/app/BaseActivity;", "Landroid/app/Activity;", true},
		{"Landroid/app/Activity;", "Landroid/view/ContextThemeWrapper;", true},
		{"Ljavax/net/ssl/HttpsURLConnection;", "Ljava/net/HttpURLConnection;", true},
		{"Lcom/app/Dup;", "Lcom/app/First;", true},
		{"Lorg/none/X;", "", false},
	}
	for _, c := range supers {
		if got, ok := p.Super(c.class); got != c.want || ok != c.ok {
			t.Errorf("Super(%s) = %q %v, want %q %v", c.class, got, ok, c.want, c.ok)
		}
	}
	ifaces := map[string][]string{
		"Lcom/app/TrustAll;":                       {"Ljavax/net/ssl/X509TrustManager;"},
		"Ljavax/net/ssl/X509ExtendedTrustManager;": {"Ljavax/net/ssl/X509TrustManager;"},
		"Lcom/app/MainActivity;":                   nil,
		"Lorg/none/X;":                             nil,
	}
	for class, want := range ifaces {
		if got := p.Interfaces(class); !slices.Equal(got, want) {
			t.Errorf("Interfaces(%s) = %q, want %q", class, got, want)
		}
	}
	if _, c, ok := p.Class("Lcom/app/MainActivity;"); !ok || c.Super != "Lcom/app/BaseActivity;" {
		t.Errorf("Class lookup across files failed: %+v", c)
	}
}
