package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"filippo.io/age"
	"github.com/urfave/cli/v2"

	"github.com/regbackup/regbackup/archive"
)

// identityFlag is --identity, for every command that reads archives.
func identityFlag() cli.Flag {
	return &cli.StringSliceFlag{Name: "identity", Aliases: []string{"i"},
		Usage: "age identity `FILE` (from age-keygen) that decrypts encrypted archives; repeatable"}
}

// loadIdentities reads the --identity files.
func loadIdentities(c *cli.Context) ([]age.Identity, error) {
	var ids []age.Identity
	for _, f := range c.StringSlice("identity") {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--identity: %w", err)
		}
		got, err := archive.ParseIdentities(data)
		if err != nil {
			return nil, usagef("--identity %s: %v", f, err)
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// loadRecipients reads --encrypt-to and --encrypt-to-file.
func loadRecipients(c *cli.Context) ([]age.Recipient, error) {
	var out []age.Recipient
	for _, s := range c.StringSlice("encrypt-to") {
		r, err := archive.ParseRecipient(s)
		if err != nil {
			return nil, usagef("--encrypt-to: %v", err)
		}
		out = append(out, r)
	}
	for _, f := range c.StringSlice("encrypt-to-file") {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--encrypt-to-file: %w", err)
		}
		rs, err := archive.ParseRecipients(data)
		if err != nil {
			return nil, usagef("--encrypt-to-file %s: %v", f, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// keyError says plainly which key an encrypted archive needs.
func keyError(c *cli.Context, name string, err error) error {
	switch {
	case errors.Is(err, archive.ErrEncrypted):
		return hinted{fmt.Sprintf("archive %s is encrypted: pass --identity FILE (the age identity whose public key it was encrypted to)", name), err}
	case errors.Is(err, archive.ErrNoIdentityMatch):
		return hinted{fmt.Sprintf("none of the identities in %s can decrypt %s (it was encrypted to other public keys)",
			strings.Join(c.StringSlice("identity"), ", "), name), err}
	}
	return err
}

// hinted is an error whose message a person reads, still matching its
// sentinel for the exit code.
type hinted struct {
	msg string
	err error
}

func (h hinted) Error() string { return h.msg }
func (h hinted) Unwrap() error { return h.err }
