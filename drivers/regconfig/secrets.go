package regconfig

import (
	"fmt"
	"sort"
	"strings"
)

// secretNames are storage parameter names whose values are secrets. Every
// scalar below one of them (e.g. azure's or gcs's credentials mapping) is a
// secret too.
var secretNames = map[string]bool{
	"accesskey": true, "secretkey": true, "sessiontoken": true, // s3
	"accountkey": true, "credentials": true, "clientsecret": true, "secret": true, // azure, gcs
	"accesskeysecret": true, "securitytoken": true, // oss
	"password": true, "apikey": true, "secretaccesskey": true, // swift and others
	"connectionstring": true, "sastoken": true, "privatekey": true, "private_key": true,
}

// IsSecret reports whether a parameter name holds a secret.
func IsSecret(name string) bool { return secretNames[strings.ToLower(name)] }

// Secrets returns the secret values in params (the scalars below secret
// names), longest first, for redaction.
func Secrets(params map[string]any) []string {
	var out []string
	var walk func(v any, secret bool)
	walk = func(v any, secret bool) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(e, secret || IsSecret(k))
			}
		case []any:
			for _, e := range v {
				walk(e, secret)
			}
		case nil:
		default:
			if secret {
				if s := fmt.Sprint(v); len(s) >= 3 {
					out = append(out, s)
				}
			}
		}
	}
	walk(params, false)
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// RedactSecrets replaces every secret value of params found in s.
func RedactSecrets(s string, params map[string]any) string {
	for _, secret := range Secrets(params) {
		s = strings.ReplaceAll(s, secret, "<redacted>")
	}
	return s
}
