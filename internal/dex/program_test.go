package dex

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dfslab/dfslab/internal/dex/dexbuild"
)

// multidexApp is an app split over two files: the activity's superclass
// lives in classes.dex, the activity and its callers in classes2.dex.
func multidexApp(t testing.TB) *Program {
	one := dexbuild.New()
	one.Class("Lcom/app/BaseActivity;").Extends("Landroid/app/Activity;").
		Method("helper", "()V")
	one.Class("Lcom/app/TrustAll;").Implements("Ljavax/net/ssl/X509TrustManager;").
		Method("checkServerTrusted", "([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V")
	one.Class("Lcom/app/Extended;").Extends("Ljavax/net/ssl/X509ExtendedTrustManager;")
	one.Class("Lcom/app/Conn;").Extends("Ljavax/net/ssl/HttpsURLConnection;")

	two := dexbuild.New()
	main := two.Class("Lcom/app/MainActivity;").Extends("Lcom/app/BaseActivity;")
	main.Method("onCreate", "(Landroid/os/Bundle;)V").
		CallSuper("Lcom/app/BaseActivity;->onCreate(Landroid/os/Bundle;)V", dexbuild.Reg(0), dexbuild.Reg(1))
	m := main.Method("go", "()V")
	m.CallVirtual("Lcom/app/MainActivity;->sendBroadcast(Landroid/content/Intent;)V", dexbuild.Reg(0), dexbuild.NewObj("Landroid/content/Intent;"))
	m.CallVirtual("Landroid/app/Activity;->sendBroadcast(Landroid/content/Intent;Ljava/lang/String;)V", dexbuild.Reg(0), dexbuild.NewObj("Landroid/content/Intent;"), dexbuild.Str("perm"))
	m.CallVirtual("Landroid/content/Context;->sendBroadcast(Landroid/content/Intent;)V", dexbuild.Reg(0), dexbuild.NewObj("Landroid/content/Intent;"))
	m.CallVirtual("Lcom/app/MainActivity;->helper()V", dexbuild.Reg(0))
	m.CallVirtual("Lcom/app/MainActivity;->getWindow()Landroid/view/Window;", dexbuild.Reg(0))
	m.CallVirtual("Lcom/app/MainActivity;->unknownFrameworkThing()V", dexbuild.Reg(0))
	m.CallDirect("Lcom/app/MainActivity;-><init>()V", dexbuild.Reg(0))
	m.CallVirtual("Lcom/app/Conn;->setHostnameVerifier(Ljavax/net/ssl/HostnameVerifier;)V", dexbuild.Reg(0), dexbuild.Reg(0))
	m.CallVirtual("Lcom/app/TrustAll;->checkServerTrusted([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V", dexbuild.Reg(0), dexbuild.Reg(0), dexbuild.Reg(0))
	return mustProgram(t, one, two)
}

func TestResolve(t *testing.T) {
	p := multidexApp(t)
	tests := []struct{ in, want MethodRef }{
		{MethodRef{"Lcom/app/MainActivity;", "sendBroadcast", "(Landroid/content/Intent;)V"},
			MethodRef{"Landroid/content/Context;", "sendBroadcast", "(Landroid/content/Intent;)V"}},
		{MethodRef{"Landroid/app/Activity;", "sendBroadcast", "(Landroid/content/Intent;)V"},
			MethodRef{"Landroid/content/Context;", "sendBroadcast", "(Landroid/content/Intent;)V"}},
		// Declared by an app class and unknown above: the app class.
		{MethodRef{"Lcom/app/MainActivity;", "helper", "()V"}, MethodRef{"Lcom/app/BaseActivity;", "helper", "()V"}},
		// App override of a framework method: the framework root.
		{MethodRef{"Lcom/app/MainActivity;", "onCreate", "(Landroid/os/Bundle;)V"},
			MethodRef{"Landroid/app/Activity;", "onCreate", "(Landroid/os/Bundle;)V"}},
		// Unknown framework method: the first class outside the app.
		{MethodRef{"Lcom/app/MainActivity;", "unknownFrameworkThing", "()V"},
			MethodRef{"Landroid/app/Activity;", "unknownFrameworkThing", "()V"}},
		{MethodRef{"Lcom/app/Conn;", "setHostnameVerifier", "(Ljavax/net/ssl/HostnameVerifier;)V"},
			MethodRef{"Ljavax/net/ssl/HttpsURLConnection;", "setHostnameVerifier", "(Ljavax/net/ssl/HostnameVerifier;)V"}},
		{MethodRef{"Lcom/app/Conn;", "connect", "()V"}, MethodRef{"Ljava/net/URLConnection;", "connect", "()V"}},
		// Interface methods resolve to the interface.
		{MethodRef{"Lcom/app/TrustAll;", "checkServerTrusted", "([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V"},
			MethodRef{"Ljavax/net/ssl/X509TrustManager;", "checkServerTrusted", "([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V"}},
		// Constructors stay put.
		{MethodRef{"Lcom/app/MainActivity;", "<init>", "()V"}, MethodRef{"Lcom/app/MainActivity;", "<init>", "()V"}},
		// Wholly unknown class: unchanged.
		{MethodRef{"Lorg/none/X;", "f", "()V"}, MethodRef{"Lorg/none/X;", "f", "()V"}},
	}
	for _, tt := range tests {
		if got := p.Resolve(tt.in); got != tt.want {
			t.Errorf("Resolve(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestHierarchy(t *testing.T) {
	p := multidexApp(t)
	yes := [][2]string{
		{"Lcom/app/MainActivity;", "Landroid/content/Context;"},
		{"Lcom/app/MainActivity;", "Lcom/app/BaseActivity;"},
		{"Lcom/app/MainActivity;", "Lcom/app/MainActivity;"},
		{"Lcom/app/MainActivity;", "Ljava/lang/Object;"},
		{"Lcom/app/Extended;", "Ljavax/net/ssl/TrustManager;"},
		{"Lcom/app/Conn;", "Ljava/net/URLConnection;"},
		{"Landroid/app/Service;", "Landroid/content/ContextWrapper;"},
	}
	for _, c := range yes {
		if !p.IsSubclassOf(c[0], c[1]) {
			t.Errorf("IsSubclassOf(%s, %s) = false", c[0], c[1])
		}
	}
	no := [][2]string{
		{"Lcom/app/MainActivity;", "Landroid/app/Service;"},
		{"Lcom/app/TrustAll;", "Landroid/content/Context;"},
		{"Lorg/none/X;", "Ljava/lang/Object;"},
	}
	for _, c := range no {
		if p.IsSubclassOf(c[0], c[1]) {
			t.Errorf("IsSubclassOf(%s, %s) = true", c[0], c[1])
		}
	}
	var impl []string
	for _, c := range p.Implementers("Ljavax/net/ssl/X509TrustManager;") {
		impl = append(impl, c.Desc)
	}
	slices.Sort(impl)
	if want := []string{"Lcom/app/Extended;", "Lcom/app/TrustAll;"}; !slices.Equal(impl, want) {
		t.Errorf("Implementers = %v, want %v", impl, want)
	}
	if _, c, ok := p.Class("Lcom/app/MainActivity;"); !ok || c.Super != "Lcom/app/BaseActivity;" {
		t.Errorf("Class lookup across files failed: %+v", c)
	}
}

func TestCallsToThroughSubclasses(t *testing.T) {
	x := mustIndex(t, multidexApp(t))
	for _, q := range []MethodRef{
		{"Landroid/content/Context;", "sendBroadcast", ""},
		{"Landroid/app/Activity;", "sendBroadcast", ""},
		{"Lcom/app/MainActivity;", "sendBroadcast", ""},
	} {
		calls := x.CallsTo(q)
		var targets []string
		for _, c := range calls {
			targets = append(targets, c.Target.Class)
			if c.Resolved.Class != "Landroid/content/Context;" || c.Caller.Name != "go" {
				t.Errorf("call %+v", c)
			}
		}
		if want := []string{"Lcom/app/MainActivity;", "Landroid/app/Activity;", "Landroid/content/Context;"}; !slices.Equal(targets, want) {
			t.Errorf("CallsTo(%v) targets %v, want %v", q, targets, want)
		}
	}
	// A proto narrows to one overload.
	if n := len(x.CallsTo(MethodRef{"Landroid/content/Context;", "sendBroadcast", "(Landroid/content/Intent;)V"})); n != 2 {
		t.Errorf("CallsTo with proto found %d calls, want 2", n)
	}
	if n := len(x.CallsTo(MethodRef{"Landroid/view/Window;", "setFlags", ""})); n != 0 {
		t.Errorf("found %d calls to a method never called", n)
	}
	n := 0
	for range x.Calls() {
		n++
	}
	if n != 10 { // 9 in go, 1 in onCreate
		t.Errorf("Calls yielded %d, want 10", n)
	}
}

// TestParallelAnalysisMatchesSerial checks that the parallel path (taken
// for large programs) finds exactly what the serial one does.
func TestParallelAnalysisMatchesSerial(t *testing.T) {
	data := synthClasses(80) // above parallelBytes
	if len(data) < parallelBytes {
		t.Fatalf("generated %d bytes, need more than %d", len(data), parallelBytes)
	}
	f, err := Parse(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := NewProgram(f)
	x := mustIndex(t, p)
	var serial Facts
	a := Analyzer{NoValues: true}
	for i := range f.Classes() {
		if err := a.AnalyzeClass(f, &f.Classes()[i], &serial); err != nil {
			t.Fatal(err)
		}
	}
	// Same sites, in file and class order, whatever the scheduling.
	var got []CallSite
	for _, ch := range x.chunks {
		got = append(got, ch.facts.Calls...)
	}
	if !slices.Equal(got, serial.Calls) {
		t.Fatalf("parallel analysis found %d calls, serial %d, or in another order", len(got), len(serial.Calls))
	}
	if n := len(x.CallsTo(MethodRef{"Landroid/content/Context;", "sendBroadcast", ""})); n != 80*8*20 {
		t.Errorf("%d sendBroadcast calls, want %d", n, 80*8*20)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Analyze(ctx); err == nil {
		t.Error("Analyze with a cancelled context succeeded")
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestMethodsAndOps(t *testing.T) {
	b := dexbuild.New()
	c := b.Class("Lcom/app/TrustAll;").Implements("Ljavax/net/ssl/X509TrustManager;")
	c.Method("checkServerTrusted", "([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V")
	c.Method("getAcceptedIssuers", "()[Ljava/security/cert/X509Certificate;")
	c.Method("checkClientTrusted", "([Ljava/security/cert/X509Certificate;Ljava/lang/String;)V").
		ConstString(0, "x").Raw(0x0528, 0x0100, 1, 0, 0, 0, 0).
		Invoke(dexbuild.InvokeStatic, "Lx/Y;->f(Ljava/lang/String;)V", 0)
	c.Method("abs", "()V").Abstract()
	p := mustProgram(t, b)
	ms, err := p.Methods("Lcom/app/TrustAll;")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range ms {
		var ops []string
		if m.Code != nil {
			for _, op := range m.Code.Ops() {
				ops = append(ops, op.String())
			}
		}
		got[m.Ref.Name] = strings.Join(ops, ",")
	}
	want := map[string]string{
		"checkServerTrusted": "return-void",
		"getAcceptedIssuers": "const/4,return-object",
		"checkClientTrusted": "const-string,goto,invoke-static,return-void",
		"abs":                "",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ops = %v\nwant  %v", got, want)
	}
	if ms, _ := p.Methods("Lnot/There;"); ms != nil {
		t.Error("methods of an unknown class")
	}
}
