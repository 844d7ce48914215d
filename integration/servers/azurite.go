package servers

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
)

// Azurite's well-known development account.
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzureServer is a running Azurite blob service.
type AzureServer struct {
	Endpoint string // blob service URL, http://127.0.0.1:PORT/devstoreaccount1
	Account  string
	Key      string
	Port     int
	Process  *Process
	client   *azblob.Client
}

// StartAzurite starts Azurite's blob service (node_modules/.bin/azurite-blob)
// on a free loopback port with its data in a temp dir, and stops it at the
// end of t. It takes a second or two: tests share one per package or test
// function and use a container each (NewContainer).
func StartAzurite(t testing.TB) *AzureServer {
	t.Helper()
	bin := Tool(t, "azurite-blob")
	if _, err := exec.LookPath("node"); err != nil {
		Missing(t, "azurite-blob needs node, which is not in PATH: %s", InstallHint)
	}
	dir := t.TempDir()
	port, p := StartOnFreePort(t, "azurite", func(port int) *Process {
		return Start(t, nil, bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
			"--location", dir, "--skipApiVersionCheck", "--disableTelemetry", "--loose", "--silent")
	}, func(port int, p *Process) bool { return Listening(port, 30*time.Second, p.Exited) })
	s := &AzureServer{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d/%s", port, AzuriteAccount),
		Account:  AzuriteAccount,
		Key:      AzuriteKey,
		Port:     port,
		Process:  p,
	}
	cred, err := azblob.NewSharedKeyCredential(s.Account, s.Key)
	if err != nil {
		t.Fatal(err)
	}
	if s.client, err = azblob.NewClientWithSharedKeyCredential(s.Endpoint, cred, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

var containerSeq atomic.Int64

// NewContainer creates a fresh, empty container and returns its name.
func (s *AzureServer) NewContainer(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("c%d-%d", time.Now().UnixNano()%1e9, containerSeq.Add(1))
	s.CreateContainer(t, name)
	return name
}

// CreateContainer creates the named container; one that exists already is
// fine.
func (s *AzureServer) CreateContainer(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.CreateContainer(ctx, name, nil); err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		t.Fatalf("azurite: create container %s: %v", name, err)
	}
}

// Client is a shared-key client for the whole account, for tests that
// check or plant blobs directly.
func (s *AzureServer) Client() *azblob.Client { return s.client }
