package hints

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
	"github.com/futuraplataforma/esteira/internal/sitepublish"
)

const flagsVia = "site --bucket acme-www --prefix site --backup-bucket acme-backups"

func TestSite_NamesTheCommandThatGetsTheSiteGoing(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("deploy acme-www/site: %w", err) }
	for _, c := range []struct {
		name      string
		err       error
		via       string
		breakLock bool
		want      string
	}{
		{"a damaged backup", wrap(&sitepublish.DamagedBackupError{Backup: "20261203T100000Z-abc123", Err: errors.New("cut short")}), flagsVia, false,
			"dagger call " + flagsVia + " set-aside --backup 20261203T100000Z-abc123 --dry-run"},
		{"a damaged backup of an environment's site", wrap(&sitepublish.DamagedBackupError{Backup: "b1", Err: errors.New("x")}), "env --name production site", false,
			"dagger call env --name production site set-aside --backup b1 --dry-run"},
		{"a refused break naming the backup", wrap(&release.BreakRefusedError{URI: "s3://r/esteira/locks/x.json", BackupID: "b2"}), flagsVia, true,
			"aws s3 rm s3://r/esteira/locks/x.json, then dagger call " + flagsVia + " rollback --backup b2 --dry-run"},
		{"a refused break without a backup", wrap(&release.BreakRefusedError{URI: "s3://r/esteira/locks/x.json"}), flagsVia, true,
			"aws s3 rm s3://r/esteira/locks/x.json, then run again"},
		{"an unproven backup", wrap(&sitepublish.UnprovenBackupError{Site: "acme-www/site", Candidates: []sitepublish.BackupCandidate{{ID: "b3"}, {ID: "b0", Recorded: true}}}), flagsVia, false,
			"dagger call " + flagsVia + " rollback --backup b3 --dry-run"},
		{"a lost lock", wrap(&release.LostLockError{Name: "frontend/acme-www/site"}), flagsVia, false,
			"dagger call " + flagsVia + " status"},
		{"a held lock", wrap(&release.LockedError{Name: "frontend/acme-www/site"}), flagsVia, false,
			"dagger call " + flagsVia + " --break-lock ..."},
		{"a held lock of an environment's site", wrap(&release.LockedError{Name: "frontend/acme-www/site"}), "env --name production site", false,
			"dagger call env --name production --break-lock site ..."},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Site(c.err, c.via, c.breakLock)
			if !strings.Contains(got.Error(), c.want) {
				t.Errorf("the error does not name %q:\n%v", c.want, got)
			}
			if !errors.Is(got, c.err) {
				t.Errorf("the error no longer wraps the engine's")
			}
		})
	}
}

func TestSite_LeavesOtherErrorsAlone(t *testing.T) {
	err := errors.New("bucket acme-www does not exist")
	if got := Site(err, flagsVia, false); got != err {
		t.Errorf("Site changed an error it has nothing to add to: %v", got)
	}
	if Site(nil, flagsVia, false) != nil {
		t.Error("Site(nil) is not nil")
	}
	held := &release.LockedError{Name: "frontend/acme-www/site"}
	if got := Site(held, flagsVia, true); got != held {
		t.Errorf("with --break-lock already given, Site still says to pass it: %v", got)
	}
}

func TestSite_NamesTheFlagOrTheFileKeyOfTheSettingToFix(t *testing.T) {
	_, inPlace := sitepublish.AtomicSettings(false, "arn:aws:cloudfront::123456789012:key-value-store/abc", "")
	for _, c := range []struct {
		name      string
		err       error
		via, want string
	}{
		{"a flag of the site", setting.Of("Prefix", errors.New("the site's prefix \"a//b\" is not a valid key prefix")), flagsVia,
			"to change it: --prefix"},
		{"a flag of the verb", fmt.Errorf("nothing was pruned: %w", setting.Of("Keep", errors.New("keep 0 would delete every backup"))), flagsVia,
			"to change it: --keep"},
		{"an atomic-only setting of a site released in place", inPlace, flagsVia,
			"to change it: --atomic or --key-value-store"},
		{"the same from an environment", inPlace, "env --name production site",
			"to change it: the frontend's atomic or keyValueStore in esteira.yaml"},
		{"a verb's flag from an environment", setting.Of("MaxDelete", errors.New("more than the limit")), "env --name production site",
			"to change it: --max-delete"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.err == nil {
				t.Fatal("no error to explain")
			}
			got := Site(c.err, c.via, false)
			if !strings.Contains(got.Error(), c.want) {
				t.Errorf("the error does not name %q:\n%v", c.want, got)
			}
			if !errors.Is(got, c.err) {
				t.Errorf("the error no longer wraps the engine's")
			}
		})
	}
}
