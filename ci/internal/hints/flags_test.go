package hints

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/futuraplataforma/esteira/internal/setting"
)

func TestFlags_NamesTheFlagOfEachSettingTheEngineSaysToFix(t *testing.T) {
	err := fmt.Errorf("deploy: %w", errors.Join(
		setting.Of("Cluster", errors.New("cluster is empty: name the ECS cluster")),
		setting.Of("Image", errors.New("image is empty")),
	))
	got := Flags(err, Backend)
	if !strings.HasSuffix(got.Error(), "\nto fix it: backend --cluster, deploy --image") {
		t.Fatalf("Flags = %q; want the backend's flags for Cluster and Image, in order", got)
	}
	if !errors.Is(got, err) {
		t.Fatal("the engine's error stays in the chain")
	}
}

func TestFlags_LeavesAnErrorWithoutAKnownSettingAsItIs(t *testing.T) {
	plain := errors.New("AWS throttled the request")
	if got := Flags(plain, AWS); got != plain {
		t.Fatalf("Flags(plain) = %q; want it unchanged", got)
	}
	other := setting.Of("Cluster", errors.New("cluster is empty"))
	if got := Flags(other, AWS); got != other {
		t.Fatalf("a setting the caller has no flag for adds nothing: %q", got)
	}
}

// Every setting an engine names has a flag in the map of the object that
// calls it, read from the engines' source: a new setting without one would
// leave the user with a message that names no flag.
func TestFlags_MapsEverySettingTheEnginesName(t *testing.T) {
	named := regexp.MustCompile(`setting\.Of\("([\w.]+)"`)
	site := map[string]string{}
	for name, s := range siteSettings {
		site[name] = s.flag
	}
	for pkg, flags := range map[string]map[string]string{
		"awsenv": AWS, "ecrauth": Publish, "ecsdeploy": Backend, "lambdadeploy": Function, "sitepublish": site,
	} {
		files, err := filepath.Glob(filepath.Join("..", "..", "..", "internal", pkg, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("read internal/%s: %v", pkg, err)
		}
		found := 0
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range named.FindAllStringSubmatch(string(src), -1) {
				found++
				if fix := flags[m[1]]; !strings.Contains(fix, "--") && !strings.Contains(fix, "esteira.yaml") {
					t.Errorf("%s names the setting %s, and the module maps it to no flag or file key", f, m[1])
				}
			}
		}
		if found == 0 {
			t.Errorf("internal/%s names no setting: the test reads the wrong files", pkg)
		}
	}
}
