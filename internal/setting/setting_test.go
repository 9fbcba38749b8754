package setting

import (
	"errors"
	"fmt"
	"testing"
)

func TestNames_FindsEverySettingOnceThroughWrapsAndJoins(t *testing.T) {
	err := errors.Join(
		Of("Cluster", errors.New("cluster is empty")),
		fmt.Errorf("deploy: %w", Of("Image", errors.New("image is empty"))),
		Of("Cluster", errors.New("cluster again")),
		errors.New("not a setting"),
	)
	got := Names(fmt.Errorf("backend: %w", err))
	if fmt.Sprint(got) != "[Cluster Image]" {
		t.Fatalf("Names = %v; want [Cluster Image]", got)
	}
	if Names(errors.New("plain")) != nil || Names(nil) != nil {
		t.Fatal("an error naming no setting has no names")
	}
	if Of("X", nil) != nil {
		t.Fatal("Of(name, nil) must stay nil")
	}
	if e := Of("Tag", errors.New("tag is empty")); e.Error() != "tag is empty" {
		t.Fatalf("the message is the engine's own: %q", e.Error())
	}
}
