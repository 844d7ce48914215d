// Package locopt parses the values of location query options the
// object-storage drivers share (sizes, booleans), with errors that name the
// option.
package locopt

import (
	"fmt"
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
