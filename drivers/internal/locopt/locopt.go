// Package locopt parses the values of location query options the
// object-storage drivers share (sizes, booleans), with errors that name the
// option.
package locopt

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Bool reads option k's value v: true or false (as strconv.ParseBool).
func Bool(k, v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("option %s=%q: want true or false", k, v)
	}
	return b, nil
}

// Size reads option k's value v, a byte count: 16777216, 16MiB, 16M, 1GiB,
// 512KiB.
func Size(k, v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("option %s=%q: want a size such as 16MiB", k, v)
	}
	return n * mult, nil
}

// Each calls set for every query option of u, each of which must be given
// once; a query that does not parse, an option given twice or set's error
// is returned (without u, which may hold a secret).
func Each(u *url.URL, set func(k, v string) error) error {
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("the query is not valid")
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return fmt.Errorf("option %s given %d times", k, len(vs))
		}
		if err := set(k, vs[0]); err != nil {
			return err
		}
	}
	return nil
}

// IsCredential reports whether an option name k (in any case, with or
// without "-" and "_") names a credential, which never belongs in a
// location: it is printed and stored in archive catalogs.
func IsCredential(k string) bool {
	k = strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(k))
	return slices.Contains([]string{"accesskey", "secretkey", "sessiontoken", "accesskeyid", "secretaccesskey", "token",
		"password", "secret", "user", "username", "userid", "key", "apikey", "authtoken", "applicationcredentialsecret"}, k)
}
