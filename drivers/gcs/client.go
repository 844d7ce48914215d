package gcs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"cloud.google.com/go/storage"
	"google.golang.org/api/option"
)

// newClient builds the storage client for c (already checked): endpoint,
// credentials, JSON reads (emulators serve them without a public host
// name) and the retry policy.
func newClient(ctx context.Context, c Config) (*storage.Client, error) {
	opts := []option.ClientOption{storage.WithJSONReads(), storage.WithDisabledClientMetrics()}
	if c.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(c.Endpoint))
	}
	creds, err := credentialsOption(c)
	if err != nil {
		return nil, err
	}
	if creds != nil {
		opts = append(opts, creds)
	}
	client, err := storage.NewClient(ctx, opts...)
	if err != nil {
		return nil, credentialsHint(err)
	}
	// Every write replaces a whole object, so retrying any request is safe.
	// The backoff is the library's: 1 s doubling up to 30 s, with jitter.
	client.SetRetry(storage.WithPolicy(storage.RetryAlways), storage.WithMaxRetryDuration(RetryFor))
	return client, nil
}

// credentialsOption picks the credentials: key file, inline JSON, none, or
// (nil) Application Default Credentials.
func credentialsOption(c Config) (option.ClientOption, error) {
	switch {
	case c.KeyFile != "":
		data, err := os.ReadFile(c.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("reading the key file: %w", err)
		}
		typ, err := keyType(data)
		if err != nil {
			return nil, fmt.Errorf("key file %s: %w", c.KeyFile, err)
		}
		return option.WithAuthCredentialsJSON(typ, data), nil
	case len(c.CredentialsJSON) > 0:
		typ, err := keyType(c.CredentialsJSON)
		if err != nil {
			return nil, fmt.Errorf("inline credentials: %w", err)
		}
		return option.WithAuthCredentialsJSON(typ, c.CredentialsJSON), nil
	case c.Anonymous:
		return option.WithoutAuthentication(), nil
	}
	return nil, nil
}

// keyType reads the "type" field of a JSON key. Its errors never quote the
// key's content.
func keyType(data []byte) (option.CredentialsType, error) {
	var k struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &k); err != nil {
		return "", fmt.Errorf("not a JSON key (want a service-account key as downloaded from the Google Cloud console)")
	}
	switch t := option.CredentialsType(k.Type); t {
	case option.ServiceAccount, option.AuthorizedUser, option.ExternalAccount, option.ImpersonatedServiceAccount:
		return t, nil
	case "":
		return "", fmt.Errorf(`no "type" field (want a service-account key, "type": "service_account")`)
	default:
		return "", fmt.Errorf(`key type %q is not supported (want "service_account", "authorized_user", "external_account" or "impersonated_service_account")`, k.Type)
	}
}
