package azure

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// CredentialType selects how a Driver authenticates.
type CredentialType string

// Credential types, named as the registry's credentials.type parameter.
const (
	// SharedKey signs requests with Config.AccountKey.
	SharedKey CredentialType = "shared_key"
	// ClientSecret is an Entra ID service principal: Config.TenantID,
	// ClientID and ClientSecret.
	ClientSecret CredentialType = "client_secret"
	// DefaultCredentials is azidentity's default chain (environment,
	// workload identity, managed identity, Azure CLI).
	DefaultCredentials CredentialType = "default_credentials"
	// SAS appends Config.SAS, a shared access signature, to every request.
	SAS CredentialType = "sas"
)

// Defaults used when a Config field is zero.
const (
	DefaultRealm        = "core.windows.net"
	DefaultBlockSize    = 8 << 20
	DefaultBufferMemory = 128 << 20
	DefaultMaxRetries   = 5
	DefaultConcurrency  = 16
	DefaultCheckTimeout = 15 * time.Second
	// blocksInFlight is how many blocks one Put stages at once.
	blocksInFlight = 4
	// maxBlocks is Azure's limit of committed blocks per blob.
	maxBlocks = 50000
	// maxBlockSize is Azure's limit for one staged block.
	maxBlockSize = 4000 << 20
)

// Config says where a registry's blobs live and how to reach them. Only
// Container and either Account or ServiceURL are required.
type Config struct {
	Account   string // storage account name
	Container string // container holding the registry
	// RootDirectory is the registry's rootdirectory, "" for the container
	// root. Leading and trailing slashes do not matter.
	RootDirectory string
	// ServiceURL is the blob service endpoint, e.g.
	// "http://127.0.0.1:10000/devstoreaccount1" for Azurite. Default:
	// https://ACCOUNT.blob.REALM.
	ServiceURL string
	Realm      string // default DefaultRealm

	// Credential selects the authentication. Empty: ConnectionString if
	// set, else SharedKey if AccountKey is set, else SAS if SAS is set,
	// else DefaultCredentials.
	Credential       CredentialType
	AccountKey       string // base64, for SharedKey
	ConnectionString string // an account connection string (key or SAS inside)
	SAS              string // shared access signature, with or without a leading "?"
	TenantID         string // for ClientSecret
	ClientID         string // for ClientSecret
	ClientSecret     string // for ClientSecret

	// LegacyRootPrefix names blobs as Distribution 2.x did, with a leading
	// slash: "/[root/]docker/registry/v2/...". Without it:
	// "[root/]docker/registry/v2/..." (3.x, GitLab).
	LegacyRootPrefix bool

	// BlockSize is the largest file Put sends in one request, and the
	// block size of larger ones (at most 50,000 blocks per blob). Default
	// DefaultBlockSize.
	BlockSize int64
	// BufferMemory bounds the bytes all Puts of this Driver hold in
	// buffers at once. At least BlockSize; default DefaultBufferMemory.
	BufferMemory int64
	// MaxRetries is how often one request is retried on throttling (429),
	// 5xx and network errors, with exponential backoff. Default
	// DefaultMaxRetries; negative: no retries.
	MaxRetries int
	// Concurrency is DefaultConcurrency's answer. Default 16.
	Concurrency int
	// CheckTimeout bounds New's check that the container can be listed.
	// Default DefaultCheckTimeout.
	CheckTimeout time.Duration
}

// withDefaults fills in zero fields and checks the rest. Errors name the
// field and never contain secrets.
func (c Config) withDefaults() (Config, error) {
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.BlockSize == 0 {
		c.BlockSize = DefaultBlockSize
	}
	if c.BufferMemory == 0 {
		c.BufferMemory = max(DefaultBufferMemory, c.BlockSize)
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = DefaultCheckTimeout
	}
	if c.ConnectionString != "" {
		cs, err := parseConnectionString(c.ConnectionString)
		if err != nil {
			return c, err
		}
		if c.Account == "" {
			c.Account = cs.account
		}
		if c.ServiceURL == "" {
			c.ServiceURL = cs.serviceURL
		}
		if c.AccountKey == "" {
			c.AccountKey = cs.key
		}
		if c.SAS == "" {
			c.SAS = cs.sas
		}
	}
	if c.Credential == "" {
		switch {
		case c.AccountKey != "":
			c.Credential = SharedKey
		case c.SAS != "":
			c.Credential = SAS
		case c.ConnectionString != "":
			return c, fmt.Errorf("the connection string has neither AccountKey nor SharedAccessSignature")
		default:
			c.Credential = DefaultCredentials
		}
	}
	c.SAS = strings.TrimPrefix(c.SAS, "?")
	switch {
	case c.Container == "":
		return c, fmt.Errorf("no container given")
	case !validContainer(c.Container):
		return c, fmt.Errorf("container name %q is not valid: 3-63 characters, lowercase letters, digits and single hyphens, starting and ending with a letter or digit", c.Container)
	case c.BlockSize < 64<<10 || c.BlockSize > maxBlockSize:
		return c, fmt.Errorf("block size %d is out of range (64 KiB to 4000 MiB)", c.BlockSize)
	case c.BufferMemory < c.BlockSize:
		return c, fmt.Errorf("buffer memory %d is smaller than the block size %d", c.BufferMemory, c.BlockSize)
	}
	switch c.Credential {
	case SharedKey:
		if c.AccountKey == "" {
			return c, fmt.Errorf("credential type shared_key needs an account key (AZURE_STORAGE_KEY or accountkey)")
		}
		if c.Account == "" {
			return c, fmt.Errorf("credential type shared_key needs the account name (account=NAME or accountname)")
		}
	case ClientSecret:
		if c.TenantID == "" || c.ClientID == "" || c.ClientSecret == "" {
			return c, fmt.Errorf("credential type client_secret needs a tenant id, client id and secret")
		}
	case SAS:
		if c.SAS == "" {
			return c, fmt.Errorf("credential type sas needs a SAS token (AZURE_STORAGE_SAS_TOKEN)")
		}
	case DefaultCredentials:
	default:
		return c, fmt.Errorf("credential type %q is not one of shared_key, client_secret, default_credentials, sas", c.Credential)
	}
	if c.ServiceURL == "" {
		if c.Account == "" {
			return c, fmt.Errorf("no account name and no endpoint given (account=NAME or endpoint=URL)")
		}
		c.ServiceURL = "https://" + c.Account + ".blob." + c.Realm
	}
	u, err := url.Parse(c.ServiceURL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return c, fmt.Errorf("endpoint %q is not an http(s) URL", redactURL(c.ServiceURL))
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return c, fmt.Errorf("endpoint %q must be a plain URL: put credentials in the environment, not in the endpoint", redactURL(c.ServiceURL))
	}
	if u.Scheme == "http" && (c.Credential == DefaultCredentials || c.Credential == ClientSecret) {
		return c, fmt.Errorf("no account key or SAS token given, and Entra ID (%s) credentials are only sent over https: set AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN or AZURE_STORAGE_CONNECTION_STRING for an http endpoint", c.Credential)
	}
	c.ServiceURL = strings.TrimRight(c.ServiceURL, "/")
	return c, nil
}

// containerName follows Azure's rules: 3-63 of [a-z0-9-], starting and
// ending with a letter or digit, no "--".
var containerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func validContainer(s string) bool {
	return containerName.MatchString(s) && !strings.Contains(s, "--")
}

// rootPrefix is what blob names start with: "" or "root/" (3.x, GitLab),
// "/" or "/root/" (legacy 2.x naming).
func rootPrefix(rootDirectory string, legacy bool) string {
	p := strings.Trim(rootDirectory, "/")
	if p != "" {
		p += "/"
	}
	if legacy {
		p = "/" + p
	}
	return p
}

// redactURL drops user info and query from a URL for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		if i := strings.IndexAny(s, "?@"); i >= 0 {
			return s[:i] + "..."
		}
		return s
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment = nil, "", false, ""
	return u.String()
}
