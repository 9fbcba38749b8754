package pipelines_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCI_FunctionsThatTalkToAWSAreNeverCached guards the rule that every
// Dagger function reading or changing AWS state is cached for one session at
// most: since Dagger 0.19 functions are cached by default, across sessions,
// and a cached deploy would silently do nothing, a cached status show the
// past. A function that changes AWS (it has a dry run) is never cached.
func TestCI_FunctionsThatTalkToAWSAreNeverCached(t *testing.T) {
	files, err := parseModuleFiles(filepath.Join("..", "ci"))
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() {
				continue
			}
			doc := fn.Doc.Text()
			if hasParam(fn, "dryRun") {
				assert.Contains(t, doc, `+cache="never"`, "%s changes AWS (it has a dry run) but is not marked +cache=\"never\"", fn.Name.Name)
			}
			if !callsReceiverMethod(fn, "aws") {
				continue
			}
			checked++
			assert.True(t, strings.Contains(doc, `+cache="never"`) || strings.Contains(doc, `+cache="session"`),
				"%s talks to AWS (calls aws) but is cached across sessions: mark it +cache=\"never\" (or \"session\" if it only reads)", fn.Name.Name)
		}
	}
	assert.GreaterOrEqual(t, checked, 7, "expected the publish, deploy, migrate, plan, rollback and status functions to be checked")
}

// TestCI_ObjectsAreNotNamedLikeCoreTypes: the engine refuses to load a
// module one of whose objects has the name of a core type ("type
// \"Function\" is already defined by module \"daggercore\""), and then every
// dagger call fails. The core types are read from the API schema the code
// generator pins (tools/daggercodegen).
func TestCI_ObjectsAreNotNamedLikeCoreTypes(t *testing.T) {
	schemas, err := filepath.Glob(filepath.Join("..", "tools", "daggercodegen", "schema-v*.json"))
	require.NoError(t, err)
	require.Len(t, schemas, 1, "expected the one pinned API schema in tools/daggercodegen")
	src, err := os.ReadFile(schemas[0])
	require.NoError(t, err)
	var schema struct {
		Schema struct {
			Types []struct{ Name string } `json:"types"`
		} `json:"__schema"`
	}
	require.NoError(t, json.Unmarshal(src, &schema), "read %s", schemas[0])
	core := map[string]bool{}
	for _, ty := range schema.Schema.Types {
		core[ty.Name] = true
	}
	require.True(t, core["Container"] && core["Function"], "%s should list the core types", schemas[0])

	api, err := loadModuleAPI("../ci", "Esteira")
	require.NoError(t, err)
	for object := range api.objects {
		assert.False(t, core[object], "ci/'s object %s has the name of Dagger's core type %s: the engine refuses to "+
			"load the module; rename the Go type (the function that returns it keeps its name)", object, object)
	}
}

// TestCI_SecretsArePlaintextOnlyInAwsGo keeps the one place that reads a
// secret's value easy to audit.
func TestCI_SecretsArePlaintextOnlyInAwsGo(t *testing.T) {
	files, err := parseModuleFiles(filepath.Join("..", "ci"))
	require.NoError(t, err)
	found := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if ok && sel.Sel.Name == "Plaintext" {
				found++
				assert.Equal(t, "main", f.Name.Name)
				assert.True(t, strings.Contains(declaringFunc(f, sel), "plaintext"),
					"Secret.Plaintext is read outside aws.go's plaintext helper")
			}
			return true
		})
	}
	assert.Equal(t, 1, found, "expected exactly one Plaintext call, in aws.go")
}

// callsReceiverMethod says whether fn's body calls name on its receiver or
// on anything the receiver holds: m.aws(ctx), b.M.aws(ctx).
func callsReceiverMethod(fn *ast.FuncDecl, name string) bool {
	if fn.Body == nil || len(fn.Recv.List) == 0 || len(fn.Recv.List[0].Names) == 0 {
		return false
	}
	recv := fn.Recv.List[0].Names[0].Name
	found := false
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		if call, ok := n.(*ast.CallExpr); ok {
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == name && rootIdent(sel.X) == recv {
				found = true
			}
		}
		return !found
	})
	return found
}

// rootIdent is m of m, m.M or m.M.x.
func rootIdent(expr ast.Expr) string {
	for {
		switch e := expr.(type) {
		case *ast.Ident:
			return e.Name
		case *ast.SelectorExpr:
			expr = e.X
		default:
			return ""
		}
	}
}

// hasParam says whether fn has a parameter of that name.
func hasParam(fn *ast.FuncDecl, name string) bool {
	for _, p := range fn.Type.Params.List {
		for _, n := range p.Names {
			if n.Name == name {
				return true
			}
		}
	}
	return false
}

// declaringFunc names the top-level function whose body holds node.
func declaringFunc(f *ast.File, node ast.Node) string {
	for _, decl := range f.Decls {
		if fn, ok := decl.(*ast.FuncDecl); ok && fn.Pos() <= node.Pos() && node.End() <= fn.End() {
			return fn.Name.Name
		}
	}
	return ""
}

// TestLayout_EnginesDoNotReachBackIntoDagger keeps data flowing one way:
// ci/ → internal/<engine> → aws-sdk-go-v2. The engines (and cmd/) import
// neither the Dagger SDK nor the ci module.
func TestLayout_EnginesDoNotReachBackIntoDagger(t *testing.T) {
	checked := 0
	for _, root := range []string{filepath.Join("..", "internal"), filepath.Join("..", "cmd")} {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				return err
			}
			checked++
			for _, imp := range f.Imports {
				p := strings.Trim(imp.Path.Value, `"`)
				assert.False(t, strings.HasPrefix(p, "dagger.io/") || strings.HasPrefix(p, "github.com/futuraplataforma/esteira/ci"),
					"%s imports %s: engines must not depend on Dagger or ci/", path, p)
			}
			return nil
		})
		require.NoError(t, err)
	}
	assert.Greater(t, checked, 50, "expected to read the engines' Go files")
}
