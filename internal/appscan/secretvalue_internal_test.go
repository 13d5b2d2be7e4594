package appscan

import "testing"

// TestSecretResourceLabels: string resources that name a secret field for
// people (its title, hint, progress text) are not secrets; values that
// are one capitalised word are labels. Found on the Debian androguard
// corpus: "pref_title_password" = "Password", "kg_login_password_hint" =
// "Password", "lockscreen_glogin_checking_password" = "Checking…".
func TestSecretResourceLabels(t *testing.T) {
	for _, c := range []struct {
		name, value string
		want        bool
	}{
		{"pref_title_password", "Password", false},
		{"kg_login_password_hint", "Password", false},
		{"lockscreen_glogin_checking_password", "Checking…", false},
		{"lockscreen_glogin_password_hint", "Password", false},
		{"wallet_password", "Password:", false}, // a label even under a secret-sounding name
		{"payment_api_secret", "pK7Qx9Lm2Vb8Nc4Zt6Rw1Ys3", true},
		{"merchant_token", "tok_Live_8f3K29xQ", true},
		{"db_password", "Winter2024!", true},
	} {
		got := secretResourceName(c.name) && secretValue(c.value, 8)
		if got != c.want {
			t.Errorf("%s = %q: secret %v, want %v", c.name, c.value, got, c.want)
		}
	}
}
