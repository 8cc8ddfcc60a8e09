package main_test

import (
	"bufio"
	"debug/buildinfo"
	"debug/elf"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"rosterd/store"
	"rosterd/store/storetest"
)

// nonroot is the user of the container image (distroless "nonroot").
const nonroot = 65532

// TestStaticBinaryRunsAsTheImageDoes checks what the Dockerfile relies on
// without building the image: the binary is static (no dynamic loader, so
// it runs on distroless/static or scratch), carries its version, and runs
// `serve` and `healthcheck` with nothing but the image's environment
// (ROSTERD_DATA_DIR and the two addresses; with PostgreSQL also
// ROSTERD_DATABASE_URL), in an empty working directory, as uid 65532 with
// only the data directory writable. It answers /readyz, the health check
// passes, and SIGTERM ends it cleanly.
func TestStaticBinaryRunsAsTheImageDoes(t *testing.T) {
	t.Parallel()
	needBinary(t)
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary asks for a dynamic loader (PT_INTERP): it would not start on a distroless/static image")
		}
	}
	f.Close()
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" && s.Value != "0" {
			t.Fatalf("built with CGO_ENABLED=%s", s.Value)
		}
	}

	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			// Not t.TempDir: its parent is closed to other users.
			root, err := os.MkdirTemp("", "rosterd-image")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(root) })
			bin, work, data := filepath.Join(root, "rosterd"), filepath.Join(root, "work"), filepath.Join(root, "data")
			copyFile(t, binary, bin, 0o755)
			for _, dir := range []string{work, data} {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			var cred *syscall.Credential
			if os.Getuid() == 0 {
				cred = &syscall.Credential{Uid: nonroot, Gid: nonroot}
				if err := os.Chown(data, nonroot, nonroot); err != nil {
					t.Fatal(err)
				}
				// Only /data is writable: the binary and the working directory are root's.
				if err := os.Chmod(root, 0o755); err != nil {
					t.Fatal(err)
				}
			} else {
				t.Logf("not root: running as uid %d, not %d", os.Getuid(), nonroot)
			}
			env := []string{"ROSTERD_DATA_DIR=" + data, "ROSTERD_HTTP_ADDR=" + freeAddr(t), "ROSTERD_SFTP_ADDR=" + freeAddr(t)}
			if d == store.Postgres {
				env = append(env, "ROSTERD_DATABASE_URL="+storetest.URL(t, d))
			}
			run := func(args ...string) *exec.Cmd {
				cmd := exec.Command(bin, args...)
				cmd.Env, cmd.Dir = env, work
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
				return cmd
			}

			out, err := run("version").Output()
			if err != nil || !strings.HasPrefix(string(out), testVersion+" (go") {
				t.Fatalf("rosterd version = %q, %v; want the stamp %s first", out, err, testVersion)
			}
			if out, err := run("healthcheck").CombinedOutput(); err == nil {
				t.Fatalf("healthcheck passed with no daemon running: %s", out)
			}

			serve := run("serve")
			stderr, err := serve.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := serve.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = serve.Process.Kill() })
			logs := make(chan string, 1000)
			go func() {
				sc := bufio.NewScanner(stderr)
				for sc.Scan() {
					logs <- sc.Text()
				}
				close(logs)
			}()
			var log strings.Builder
			var httpAddr string
			for httpAddr == "" {
				select {
				case line, ok := <-logs:
					if !ok {
						t.Fatalf("serve ended before it was ready: %v\n%s", serve.Wait(), log.String())
					}
					log.WriteString(line + "\n")
					if strings.Contains(line, "rosterd ready") {
						httpAddr = strings.TrimPrefix(env[1], "ROSTERD_HTTP_ADDR=")
					}
				case <-time.After(60 * time.Second):
					t.Fatalf("serve not ready within 60s:\n%s", log.String())
				}
			}
			go func() {
				for range logs { // keep the pipe drained
				}
			}()

			res, err := http.Get("http://" + httpAddr + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("/readyz = %d", res.StatusCode)
			}
			if out, err := run("healthcheck").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "ready" {
				t.Fatalf("healthcheck = %v: %s", err, out)
			}
			if d == store.SQLite {
				for _, name := range []string{"rosterd.db", "sftp_host_key"} {
					st, err := os.Stat(filepath.Join(data, name))
					if err != nil {
						t.Fatalf("%s in the data directory: %v", name, err)
					}
					if cred != nil && st.Sys().(*syscall.Stat_t).Uid != nonroot {
						t.Errorf("%s is owned by uid %d, want %d", name, st.Sys().(*syscall.Stat_t).Uid, nonroot)
					}
				}
			}
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				t.Errorf("serve wrote into its working directory: %v", entries)
			}

			if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			ended := make(chan error, 1)
			go func() { ended <- serve.Wait() }()
			select {
			case err := <-ended:
				if err != nil {
					t.Fatalf("serve after SIGTERM: %v", err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("serve still running 60s after SIGTERM")
			}
		})
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
