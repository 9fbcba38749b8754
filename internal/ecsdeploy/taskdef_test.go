package ecsdeploy

import (
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readOnlyTaskDefinitionFields are the DescribeTaskDefinition fields that
// RegisterTaskDefinition does not take: ECS sets them.
var readOnlyTaskDefinitionFields = []string{
	"Compatibilities", "DeleteRequestedAt", "DeregisteredAt", "RegisteredAt", "RegisteredBy",
	"RequiresAttributes", "Revision", "Status", "TaskDefinitionArn",
}

// TestRegisterInput_CarriesOverEveryRegistrableField fills every field of a
// live task definition and checks that each RegisterTaskDefinition input
// field receives it unchanged, and that the only fields left behind are the
// read-only ones. A field added to the SDK on either side makes it fail.
func TestRegisterInput_CarriesOverEveryRegistrableField(t *testing.T) {
	td := &types.TaskDefinition{}
	fillNonZero(t, reflect.ValueOf(td).Elem())
	td.ContainerDefinitions = []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("old")}}

	in := registerInput(td, nil, "app", "new")

	inT, tdV, inV := reflect.TypeFor[ecs.RegisterTaskDefinitionInput](), reflect.ValueOf(td).Elem(), reflect.ValueOf(in).Elem()
	var copied []string
	for i := range inT.NumField() {
		f := inT.Field(i)
		if !f.IsExported() || f.Name == "Tags" || f.Name == "ContainerDefinitions" {
			continue
		}
		src := tdV.FieldByName(f.Name)
		require.True(t, src.IsValid(), "RegisterTaskDefinitionInput.%s has no counterpart in TaskDefinition: decide how to carry it over", f.Name)
		assert.Equal(t, src.Interface(), inV.Field(i).Interface(), "field %s is not carried over", f.Name)
		copied = append(copied, f.Name)
	}
	for i := range tdV.NumField() {
		name := tdV.Type().Field(i).Name
		if name == "ContainerDefinitions" || slices.Contains(copied, name) || !tdV.Type().Field(i).IsExported() || name == "noSmithyDocumentSerde" {
			continue
		}
		assert.Contains(t, readOnlyTaskDefinitionFields, name, "TaskDefinition.%s is neither copied nor read-only", name)
	}
	require.Len(t, in.ContainerDefinitions, 1)
	assert.Equal(t, "new", aws.ToString(in.ContainerDefinitions[0].Image))
}

// fillNonZero gives every settable field a non-zero value.
func fillNonZero(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x-" + v.Type().Field(i).Name)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int32, reflect.Int64:
			f.SetInt(7)
		case reflect.Pointer:
			p := reflect.New(f.Type().Elem())
			switch p.Elem().Kind() {
			case reflect.String:
				p.Elem().SetString("x-" + v.Type().Field(i).Name)
			case reflect.Bool:
				p.Elem().SetBool(true)
			case reflect.Int32:
				p.Elem().SetInt(7)
			case reflect.Struct:
				if p.Elem().NumField() > 1 {
					fillNonZero(t, p.Elem())
				}
			}
			f.Set(p)
		case reflect.Slice:
			s := reflect.MakeSlice(f.Type(), 1, 1)
			if s.Index(0).Kind() == reflect.Struct {
				fillNonZero(t, s.Index(0))
			} else if s.Index(0).Kind() == reflect.String {
				s.Index(0).SetString("x")
			}
			f.Set(s)
		}
	}
}
