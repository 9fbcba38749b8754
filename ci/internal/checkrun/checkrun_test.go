package checkrun

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/futuraplataforma/esteira/internal/envfile"
	"github.com/futuraplataforma/esteira/internal/redact"
)

func TestSecrets_GivesEachCheckOnlyTheSecretsItNames(t *testing.T) {
	checks := []envfile.Check{
		{Name: "sonar", Secrets: []string{"SONAR_TOKEN", "SONAR_HOST_URL"}},
		{Name: "lint"},
		{Name: "audit", Secrets: []string{"NPM_TOKEN"}},
	}
	got, err := Secrets(checks, "staging", []string{"NPM_TOKEN", "SONAR_HOST_URL", "SONAR_TOKEN", "UNUSED"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string][]int{"sonar": {2, 1}, "audit": {0}}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestSecrets_RefusesASecretNotGivenNamingTheCheckTheSecretAndTheFlag(t *testing.T) {
	checks := []envfile.Check{{Name: "lint"}, {Name: "sonar", Secrets: []string{"SONAR_TOKEN"}}}
	_, err := Secrets(checks, "staging", []string{"NPM_TOKEN"})
	want := "check sonar needs the secret SONAR_TOKEN, and it was not given; nothing was run: give it with with-secret --name SONAR_TOKEN --value env:SONAR_TOKEN " +
		"before release (dagger call env --name staging with-secret --name SONAR_TOKEN --value env:SONAR_TOKEN release)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

// A check that prints its secret (by mistake, or a tool's debug output)
// leaves no trace of it in the record, wherever it appears.
func TestRecord_HidesTheSecretsACheckPrints(t *testing.T) {
	const secret = "squ_0f4e8c1b2a9d7e6f"
	red := redact.New()
	red.Learn(secret)
	out := "INFO: scanning 12 files\nDEBUG: token=" + secret + "\nINFO: using " + secret + " for sonar.example\nQUALITY GATE STATUS: PASSED\n"
	rec := Record(envfile.Check{Name: "sonar", Image: "sonarsource/sonar-scanner-cli:11", Command: "sonar-scanner"}, out, true, red)
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), secret[:8]) {
		t.Errorf("the record holds the secret: %s", data)
	}
	want := []string{"INFO: scanning 12 files", "DEBUG: token=" + redact.Mask, "INFO: using " + redact.Mask + " for sonar.example", "QUALITY GATE STATUS: PASSED"}
	if !reflect.DeepEqual(rec.Output, want) || !rec.Passed {
		t.Errorf("got %q (passed %v), want %q", rec.Output, rec.Passed, want)
	}
}

func TestRecord_KeepsTheLastLines(t *testing.T) {
	var b strings.Builder
	for i := range 30 {
		b.WriteString("line " + strings.Repeat("x", i) + "\n")
	}
	rec := Record(envfile.Check{Name: "lint"}, b.String(), false, redact.New())
	if len(rec.Output) != OutputTail || rec.Output[OutputTail-1] != "line "+strings.Repeat("x", 29) || rec.Passed {
		t.Errorf("got %d lines ending %q (passed %v)", len(rec.Output), rec.Output[len(rec.Output)-1], rec.Passed)
	}
}
