package archive

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"filippo.io/age"
)

// ParseRecipient parses one recipient: an age public key ("age1...", also
// the post-quantum "age1pq1..."). Errors never repeat the input, which may
// be a private key pasted by mistake.
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1"):
		rs, err := age.ParseRecipients(strings.NewReader(s))
		if err != nil {
			return nil, fmt.Errorf("not a valid age public key (age1...)")
		}
		return rs[0], nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-"), strings.Contains(s, "PRIVATE KEY"):
		return nil, fmt.Errorf("that is a private key: encrypt to its public key (age-keygen -y KEYFILE prints it)")
	case strings.HasPrefix(s, "ssh-"):
		return nil, fmt.Errorf("SSH keys are not supported: use an age public key (age-keygen)")
	}
	return nil, fmt.Errorf("not an age public key (age1...)")
}

// ParseRecipients parses a recipients file: one age public key per line;
// empty lines and lines starting with # are skipped.
func ParseRecipients(data []byte) ([]age.Recipient, error) {
	var out []age.Recipient
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r, err := ParseRecipient(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no recipients in it")
	}
	return out, nil
}

// ParseIdentities parses an age identity file as age-keygen writes it:
// "AGE-SECRET-KEY-1..." lines, # comments. Errors never repeat the file's
// content.
func ParseIdentities(data []byte) ([]age.Identity, error) {
	if bytes.Contains(data, []byte("PRIVATE KEY-----")) {
		return nil, fmt.Errorf("SSH and PEM keys are not supported: use an age identity file (age-keygen)")
	}
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		// age's message may quote part of a malformed key: say only where.
		where := ""
		if _, rest, ok := strings.Cut(err.Error(), "error at line "); ok {
			if n, _, ok := strings.Cut(rest, ":"); ok {
				where = " (line " + n + ")"
			}
		}
		return nil, fmt.Errorf("not an age identity file: want AGE-SECRET-KEY-1... lines as age-keygen writes them%s", where)
	}
	return ids, nil
}
