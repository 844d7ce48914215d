package azure

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"

	"github.com/regbackup/regbackup/drivers"
)

// safeError shows a message built to be one line and free of secrets, and
// still unwraps to the error it describes (for errors.Is/As).
type safeError struct {
	msg string
	err error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.err }

// isNotFound reports a missing blob (not a missing container).
func isNotFound(err error) bool {
	return bloberror.HasCode(err, bloberror.BlobNotFound, bloberror.ResourceNotFound)
}

// opErr turns err from operation op on file p into what callers see: the
// driver name, op and the container/blob name, then ErrNotFound, the
// context's error, or a one-line description of the service's answer.
func (d *Driver) opErr(ctx context.Context, op, p string, err error) error {
	where := fmt.Sprintf("%s: %s %s/%s", driverName, op, d.cfg.Container, d.blobName(p))
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", where, ctx.Err())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &safeError{msg: where + ": " + d.scrub(err.Error()), err: err}
	case isNotFound(err) || errors.Is(err, errFolder):
		return fmt.Errorf("%s: %w", where, drivers.ErrNotFound)
	}
	return &safeError{msg: where + ": " + d.describe(err), err: err}
}

// describe says in one line what went wrong talking to the service, with a
// hint where the cause is usually on the user's side.
func (d *Driver) describe(err error) string {
	var re *azcore.ResponseError
	var ue *url.Error
	var authErr *azidentity.AuthenticationFailedError
	var msg string
	switch {
	case errors.As(err, &re):
		msg = fmt.Sprintf("HTTP %d %s", re.StatusCode, re.ErrorCode)
		switch {
		case re.ErrorCode == string(bloberror.ContainerNotFound):
			msg = fmt.Sprintf("container %q does not exist (HTTP 404 ContainerNotFound): create it, or check the container name and the account", d.cfg.Container)
		case re.ErrorCode == string(bloberror.AuthenticationFailed) || (re.StatusCode == http.StatusForbidden && re.ErrorCode == ""):
			msg += ": the credentials were refused; check " + d.credentialHint()
		case re.StatusCode == http.StatusForbidden && d.cfg.Credential == SharedKey:
			// A shared key may do anything: a 403 means a wrong key (Azurite
			// says AuthorizationFailure) or the account's network rules.
			msg += ": the request was refused; check " + d.credentialHint() + ", and the account's firewall rules"
		case re.StatusCode == http.StatusForbidden:
			msg += ": the credentials lack a permission (read, write, delete and list on the container are needed); check " + d.credentialHint()
		case re.StatusCode == http.StatusNotFound && re.ErrorCode == "":
			msg += ": nothing answers for this container at " + d.cfg.ServiceURL + "; check the account name and endpoint"
		}
	case errors.As(err, &ue):
		msg = describeNet(ue.Err)
	case errors.As(err, &authErr) || strings.Contains(err.Error(), "Credential"):
		msg = "no usable Azure credentials (" + firstLine(err.Error()) + "): set AZURE_STORAGE_KEY, AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_SAS_TOKEN, or sign in (az login, managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET)"
	default:
		msg = firstLine(err.Error())
	}
	return d.scrub(msg)
}

// describeNet says what a transport error means without the request URL
// (which can hold a SAS token).
func describeNet(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.As(err, &dns):
		return fmt.Sprintf("cannot resolve %s (check the account name or endpoint)", dns.Name)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot connect to %v: %s (check the endpoint and that the service is up)", op.Addr, firstLine(op.Err.Error()))
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time (check the endpoint and network)"
	}
	return firstLine(err.Error())
}

// credentialHint names where the credential in use came from.
func (d *Driver) credentialHint() string {
	switch {
	case d.cfg.ConnectionString != "":
		return "the connection string (AZURE_STORAGE_CONNECTION_STRING) and that it is for account " + d.cfg.Account
	case d.cfg.Credential == SharedKey:
		return fmt.Sprintf("the account key (AZURE_STORAGE_KEY or accountkey) and that it belongs to account %q", d.cfg.Account)
	case d.cfg.Credential == SAS:
		return "the SAS token (AZURE_STORAGE_SAS_TOKEN): expiry, permissions (rwdl) and that it is for this account"
	case d.cfg.Credential == ClientSecret:
		return "the tenant id, client id and secret of the service principal, and its role on the account"
	}
	return "the identity azidentity found (az login, managed identity, AZURE_CLIENT_ID...) and its role on the account (Storage Blob Data Contributor)"
}

// scrub removes every secret the Driver knows from s, and keeps only its
// first line.
func (d *Driver) scrub(s string) string {
	return scrubSecrets(firstLine(s), d.secrets())
}

func (d *Driver) secrets() []string {
	c := d.cfg
	out := []string{c.AccountKey, c.ConnectionString, c.SAS, c.ClientSecret}
	if c.SAS != "" {
		if q, err := url.ParseQuery(c.SAS); err == nil {
			out = append(out, q.Get("sig"), url.QueryEscape(q.Get("sig")))
		}
	}
	if c.AccountKey != "" {
		out = append(out, url.QueryEscape(c.AccountKey))
	}
	return out
}

func scrubSecrets(s string, secrets []string) string {
	for _, secret := range secrets {
		if len(secret) >= 4 {
			s = strings.ReplaceAll(s, secret, "[REDACTED]")
		}
	}
	return s
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}
