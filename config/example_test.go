package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"rosterd/config"
)

// exampleFile is the sample configuration operators copy.
const exampleFile = "../deploy/rosterd.example.yaml"

// settingLine is a setting as the sample writes it: "#key: value" at the
// start of a line (prose comments have a space after "#").
var settingLine = regexp.MustCompile(`(?m)^#?([a-z0-9_]+):`)

// examples are the settings whose line shows an example rather than the
// default: the default is empty or depends on the machine.
var examples = []string{"database_url", "smtp_url", "sftp_host_key", "tmp_dir", "workers", "sftp_ciphers", "sftp_macs"}

// TestExampleConfigHasEverySetting: the sample names every setting once and
// nothing else; it loads as it is (all commented: the defaults), and with
// every line uncommented; and a line that claims to show the default shows
// the value rosterd really uses.
func TestExampleConfigHasEverySetting(t *testing.T) {
	b, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)

	seen := map[string]int{}
	for _, m := range settingLine.FindAllStringSubmatch(text, -1) {
		seen[m[1]]++
	}
	var keys []string
	for _, s := range config.Settings() {
		keys = append(keys, s.Key)
		switch seen[s.Key] {
		case 0:
			t.Errorf("%s: setting %s is missing (%s)", exampleFile, s.Key, s.Usage)
		case 1:
		default:
			t.Errorf("%s: setting %s is written %d times", exampleFile, s.Key, seen[s.Key])
		}
	}
	for k := range seen {
		if !slices.Contains(keys, k) {
			t.Errorf("%s: %q is not a setting", exampleFile, k)
		}
	}

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	asIs, err := config.LoadEnv(exampleFile, nil)
	if err != nil {
		t.Fatalf("the sample as it is: %v", err)
	}
	defaults, err := config.LoadEnv("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(asIs, defaults) {
		t.Errorf("the sample as it is changes settings:\n got %+v\nwant %+v", asIs, defaults)
	}

	// Every setting set: each line uncommented.
	uncommented := regexp.MustCompile(`(?m)^#([a-z0-9_]+:)`).ReplaceAllString(text, "$1")
	if _, err := config.LoadEnv(write("all.yaml", uncommented), nil); err != nil {
		t.Fatalf("the sample with every setting uncommented: %v", err)
	}

	// The lines that show defaults, uncommented, change nothing.
	var shown []string
	for _, line := range strings.Split(uncommented, "\n") {
		if m := settingLine.FindStringSubmatch(line); m != nil && !slices.Contains(examples, m[1]) {
			shown = append(shown, line)
		}
	}
	got, err := config.LoadEnv(write("defaults.yaml", strings.Join(shown, "\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, defaults) {
		t.Errorf("a line of the sample does not show the default:\n got %+v\nwant %+v", got, defaults)
	}
}

// TestSettingsIsACopy: the list handed out cannot change the settings.
func TestSettingsIsACopy(t *testing.T) {
	s := config.Settings()
	s[0].Key = "changed"
	if config.Settings()[0].Key == "changed" {
		t.Fatal("Settings hands out the package's own list")
	}
}
