package servers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ncw/swift/v2"
)

// SwiftServer is a real single-node OpenStack Swift (Debian's packages)
// started by the shared script ../shared/tools/swift/start-swift.sh, with
// tempauth (v1) user test:tester / testing on account AUTH_test.
type SwiftServer struct {
	AuthURL string // http://127.0.0.1:PORT/auth/v1.0
	User    string
	Key     string
	Dir     string // the script's DIR: etc/, data/, logs/
	Port    int
	conn    *swift.Connection
}

// swiftScripts is where the shared start/stop scripts live, relative to the
// repository root.
const swiftScripts = "../shared/tools/swift"

// StartSwift starts a Swift on a free loopback port in a temp dir and stops
// it at the end of t. The first start on a machine installs the Debian
// packages (the script does, once; integration/setup.sh does it too);
// later starts take about 3 s. A missing script skips the test, or fails
// it when CI=true.
func StartSwift(t testing.TB) *SwiftServer {
	t.Helper()
	scripts, err := filepath.Abs(filepath.Join(RepoRoot(t), swiftScripts))
	if err != nil {
		t.Fatal(err)
	}
	start := filepath.Join(scripts, "start-swift.sh")
	if _, err := os.Stat(start); err != nil {
		Missing(t, "Swift: %s is missing (the shared Swift scripts)", start)
	}
	dir := filepath.Join(t.TempDir(), "swift")
	var out []byte
	var port int
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		port = FreePort(t)
		cmd := exec.Command("bash", start, dir, strconv.Itoa(port))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err = cmd.Output()
		if err == nil {
			break
		}
		lastErr = fmt.Sprintf("%v\n%s", err, stderr.Bytes())
		out = nil
	}
	if out == nil {
		t.Fatalf("Swift did not start in 3 attempts: %s", lastErr)
	}
	t.Cleanup(func() {
		if b, err := exec.Command("bash", filepath.Join(scripts, "stop-swift.sh"), dir).CombinedOutput(); err != nil {
			t.Errorf("stop-swift.sh %s: %v\n%s", dir, err, b)
		}
	})
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "="); ok {
			env[k] = v
		}
	}
	s := &SwiftServer{AuthURL: env["ST_AUTH"], User: env["ST_USER"], Key: env["ST_KEY"], Dir: dir, Port: port}
	if s.AuthURL == "" || s.User == "" {
		t.Fatalf("start-swift.sh printed no ST_AUTH/ST_USER: %q", out)
	}
	s.conn = &swift.Connection{AuthUrl: s.AuthURL, UserName: s.User, ApiKey: s.Key}
	return s
}

var swiftContainerSeq atomic.Int64

// NewContainer creates a fresh, empty container and returns its name.
func (s *SwiftServer) NewContainer(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("c%d-%d", time.Now().UnixNano()%1e6, swiftContainerSeq.Add(1))
	s.CreateContainer(t, name)
	return name
}

// CreateContainer creates the container name.
func (s *SwiftServer) CreateContainer(t testing.TB, name string) {
	t.Helper()
	if err := s.conn.ContainerCreate(context.Background(), name, nil); err != nil {
		t.Fatalf("swift: create container %s: %v", name, err)
	}
}

// Conn is a connection with the tempauth credentials, for tests that check
// or plant objects directly.
func (s *SwiftServer) Conn() *swift.Connection { return s.conn }

// Location is the regbackup location of container/prefix on this server.
func (s *SwiftServer) Location(container, prefix string) string {
	loc := "swift://" + container
	if prefix != "" {
		loc += "/" + prefix
	}
	return loc + "?auth=" + s.AuthURL
}

// Env is the environment a regbackup process needs to reach this server
// ("K=V"): the v1 credentials, and no OS_* variables that could override them.
func (s *SwiftServer) Env() []string {
	return []string{"ST_USER=" + s.User, "ST_KEY=" + s.Key, "OS_USERNAME=", "OS_PASSWORD=", "OS_AUTH_URL=",
		"OS_AUTH_TOKEN=", "OS_STORAGE_URL="}
}

// Objects lists every object in container with its listed size, sorted by name.
func (s *SwiftServer) Objects(t testing.TB, container string) []swift.Object {
	t.Helper()
	objs, err := s.conn.ObjectsAll(context.Background(), container, nil)
	if err != nil {
		t.Fatalf("swift: list %s: %v", container, err)
	}
	return objs
}

// Names lists the names of every object in container whose name starts with prefix.
func (s *SwiftServer) Names(t testing.TB, container, prefix string) []string {
	t.Helper()
	var names []string
	for _, o := range s.Objects(t, container) {
		if strings.HasPrefix(o.Name, prefix) {
			names = append(names, o.Name)
		}
	}
	return names
}
