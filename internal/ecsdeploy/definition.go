package ecsdeploy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// Definition is what a release changes in a service's task definition
// beside its image: environment variables, secrets, other containers'
// images, the task's cpu and memory; or the whole definition, from a file.
//
// Lists merge with the live definition's by name: a variable or secret
// the release does not name keeps its live value, so nothing the task
// needs is dropped by omission; a name set to nil is removed.
type Definition struct {
	// CPU and Memory of the task as ECS takes them ("512", "1024", "1 vCPU");
	// "" keeps the live value.
	CPU, Memory string
	// Containers are the changes to each container, by name; the name ""
	// is the release's own container (the one whose image the release sets).
	Containers map[string]ContainerChange
	// File, when set, is the whole new definition: the JSON that
	// register-task-definition takes (aws ecs register-task-definition
	// --cli-input-json), with {{image}} standing for the release's image.
	// It is registered as it is, and nothing above may be set with it.
	// FileName names it in errors.
	File     []byte
	FileName string
}

// ContainerChange is what a release changes in one container.
type ContainerChange struct {
	// Image: "" keeps the live one, ReleaseImage takes the release's own
	// (a sidecar built from the same repository), anything else is an
	// image reference, best by digest.
	Image string
	// Environment and Secrets (NAME to valueFrom: a Secrets Manager ARN or
	// an SSM parameter) merge by name over the live container's; a nil
	// value removes the name.
	Environment map[string]*string
	Secrets     map[string]*string
}

// ReleaseImage, as a container's image, is the image being released.
const ReleaseImage = "release"

// IsZero reports whether the definition changes nothing.
func (d Definition) IsZero() bool {
	return d.CPU == "" && d.Memory == "" && len(d.Containers) == 0 && len(d.File) == 0
}

// apply changes in, the live revision's registration with the release's
// image already set on container, as the definition says.
func (d Definition) apply(in *ecs.RegisterTaskDefinitionInput, container, image string) (*ecs.RegisterTaskDefinitionInput, error) {
	if len(d.File) > 0 {
		if d.CPU != "" || d.Memory != "" || len(d.Containers) > 0 {
			return nil, setting.Of("Definition", fmt.Errorf("task definition file %s: it is the whole definition; set cpu, memory, environment, secrets and images in it, not beside it", d.FileName))
		}
		return d.fromFile(aws.ToString(in.Family), container, image)
	}
	if d.CPU != "" {
		in.Cpu = aws.String(d.CPU)
	}
	if d.Memory != "" {
		in.Memory = aws.String(d.Memory)
	}
	defs := slices.Clone(in.ContainerDefinitions)
	var names []string
	for i := range defs {
		names = append(names, aws.ToString(defs[i].Name))
	}
	for _, name := range sortedKeys(d.Containers) {
		change, target := d.Containers[name], name
		if target == "" {
			target = container
		}
		i := slices.Index(names, target)
		if i < 0 {
			return nil, setting.Of("Definition", fmt.Errorf("container %q is not in task definition %s (containers: %s): name one of them, or register the new container with a task definition file",
				target, aws.ToString(in.Family), strings.Join(names, ", ")))
		}
		c := defs[i]
		switch change.Image {
		case "":
		case ReleaseImage:
			c.Image = aws.String(image)
		default:
			c.Image = aws.String(change.Image)
		}
		c.Environment = mergeEnv(c.Environment, change.Environment)
		c.Secrets = mergeSecrets(c.Secrets, change.Secrets)
		defs[i] = c
	}
	in.ContainerDefinitions = defs
	return in, nil
}

// mergeEnv sets and removes variables by name, keeping the live order and
// adding new names sorted, so the same release makes the same revision.
func mergeEnv(live []types.KeyValuePair, change map[string]*string) []types.KeyValuePair {
	if len(change) == 0 {
		return live
	}
	var out []types.KeyValuePair
	seen := map[string]bool{}
	for _, kv := range live {
		name := aws.ToString(kv.Name)
		seen[name] = true
		v, ok := change[name]
		switch {
		case !ok:
			out = append(out, kv)
		case v != nil:
			out = append(out, types.KeyValuePair{Name: aws.String(name), Value: aws.String(*v)})
		}
	}
	for _, name := range sortedKeys(change) {
		if v := change[name]; !seen[name] && v != nil {
			out = append(out, types.KeyValuePair{Name: aws.String(name), Value: aws.String(*v)})
		}
	}
	return out
}

func mergeSecrets(live []types.Secret, change map[string]*string) []types.Secret {
	if len(change) == 0 {
		return live
	}
	var out []types.Secret
	seen := map[string]bool{}
	for _, s := range live {
		name := aws.ToString(s.Name)
		seen[name] = true
		v, ok := change[name]
		switch {
		case !ok:
			out = append(out, s)
		case v != nil:
			out = append(out, types.Secret{Name: aws.String(name), ValueFrom: aws.String(*v)})
		}
	}
	for _, name := range sortedKeys(change) {
		if v := change[name]; !seen[name] && v != nil {
			out = append(out, types.Secret{Name: aws.String(name), ValueFrom: aws.String(*v)})
		}
	}
	return out
}

var placeholder = regexp.MustCompile(`\{\{\s*([^}]*?)\s*\}\}`)

// fromFile reads the whole definition from the file, the release's image
// put where it says {{image}}. It must be of the service's family: a file
// of another family would move the service to another task definition,
// whose revisions the release records do not follow.
func (d Definition) fromFile(family, container, image string) (*ecs.RegisterTaskDefinitionInput, error) {
	var bad []string
	text := placeholder.ReplaceAllStringFunc(string(d.File), func(m string) string {
		if name := placeholder.FindStringSubmatch(m)[1]; name != "image" {
			bad = append(bad, fmt.Sprintf("%s:%d: unknown placeholder %s", d.FileName, lineAt(d.File, strings.Index(string(d.File), m)), m))
			return m
		}
		return image
	})
	if len(bad) > 0 {
		return nil, setting.Of("Definition", fmt.Errorf("task definition file %s: %s (the only placeholder is {{image}}, the release's image)", d.FileName, strings.Join(bad, "; ")))
	}
	var in ecs.RegisterTaskDefinitionInput
	dec := json.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		where := d.FileName
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			where = fmt.Sprintf("%s:%d", d.FileName, lineAt([]byte(text), int(syn.Offset)))
		case errors.As(err, &typ):
			where = fmt.Sprintf("%s:%d", d.FileName, lineAt([]byte(text), int(typ.Offset)))
		}
		return nil, setting.Of("Definition", fmt.Errorf("task definition file %s: %v: give the JSON that aws ecs register-task-definition --cli-input-json takes", where, err))
	}
	switch got := aws.ToString(in.Family); {
	case got == "":
		return nil, setting.Of("Definition", fmt.Errorf("task definition file %s has no family: set \"family\": %q, the service's", d.FileName, family))
	case got != family:
		return nil, setting.Of("Definition", fmt.Errorf("task definition file %s is of family %s, but the service runs family %s: set \"family\": %q", d.FileName, got, family, family))
	}
	i := slices.IndexFunc(in.ContainerDefinitions, func(c types.ContainerDefinition) bool { return aws.ToString(c.Name) == container })
	if i < 0 || aws.ToString(in.ContainerDefinitions[i].Image) != image {
		return nil, setting.Of("Definition", fmt.Errorf("task definition file %s: container %q must have \"image\": \"{{image}}\", the release's image: it is the container the release deploys", d.FileName, container))
	}
	return &in, nil
}

// lineAt is the 1-based line of byte offset off in data.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
