package azure

import (
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// retryOptions are the retries of ordinary requests: throttling (429), 408,
// 5xx and network errors, backing off exponentially from 1 s to 30 s.
func retryOptions(cfg Config) policy.RetryOptions {
	return policy.RetryOptions{
		MaxRetries:    int32(cfg.MaxRetries),
		RetryDelay:    time.Second,
		MaxRetryDelay: 30 * time.Second,
	}
}

// checkRetryOptions are those of New's check: a closed port or a wrong
// host must fail in seconds, not after a minute of backoff.
func checkRetryOptions() policy.RetryOptions {
	return policy.RetryOptions{
		MaxRetries:    2,
		RetryDelay:    200 * time.Millisecond,
		MaxRetryDelay: time.Second,
		TryTimeout:    DefaultCheckTimeout / 2,
	}
}

// newContainerClient builds a client for cfg's container with the given
// retries. cfg has been through withDefaults.
func newContainerClient(cfg Config, retry policy.RetryOptions) (*container.Client, error) {
	containerURL := cfg.ServiceURL + "/" + cfg.Container
	opts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry:     retry,
		Telemetry: policy.TelemetryOptions{ApplicationID: "regbackup"},
	}}
	switch cfg.Credential {
	case SharedKey:
		cred, err := container.NewSharedKeyCredential(cfg.Account, cfg.AccountKey)
		if err != nil {
			return nil, fmt.Errorf("the account key is not valid base64")
		}
		return container.NewClientWithSharedKeyCredential(containerURL, cred, opts)
	case SAS:
		return container.NewClientWithNoCredential(containerURL+"?"+cfg.SAS, opts)
	case ClientSecret:
		cred, err := azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret, nil)
		if err != nil {
			return nil, fmt.Errorf("client_secret credential: %s", firstLine(err.Error()))
		}
		return container.NewClient(containerURL, cred, opts)
	default:
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("default Azure credentials: %s", firstLine(err.Error()))
		}
		return container.NewClient(containerURL, cred, opts)
	}
}
