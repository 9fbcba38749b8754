package surface

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// maxParams is the most parameters a function of the module takes (ctx
// not counted): more, and its settings belong on an object.
const maxParams = 8

// noDryRun are the functions marked +cache="never" that need no --dry-run,
// each with the reason.
var noDryRun = map[string]string{
	"Esteira.Demo": "it changes only the sandbox it starts itself, never AWS",
}

// mutatingVerbs are method names that change AWS wherever they appear.
var mutatingVerbs = []string{"Deploy", "Rollback", "Migrate", "Prune", "Publish", "Release", "Promote", "SetAside"}

// moduleFunction is an exported method of a module object, or New.
type moduleFunction struct {
	name   string // Type.Method, or New
	params []string
	doc    string
}

// moduleFunctions reads the module's functions from ci/*.go: the exported
// methods of the types that have methods returning module results, and New.
func moduleFunctions(t *testing.T) []moduleFunction {
	t.Helper()
	files, err := filepath.Glob("../../*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []moduleFunction
	objects := map[string]bool{}
	var decls []*ast.FuncDecl
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || filepath.Base(f) == "dagger.gen.go" {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.IsExported() {
				decls = append(decls, fn)
				if fn.Recv != nil {
					objects[receiver(fn)] = true
				}
			}
		}
	}
	for _, fn := range decls {
		name := fn.Name.Name
		if fn.Recv != nil {
			name = receiver(fn) + "." + name
		} else if name != "New" {
			continue
		}
		var params []string
		for _, field := range fn.Type.Params.List {
			if typ := types(field.Type); typ != "context.Context" {
				for _, n := range field.Names {
					params = append(params, n.Name)
				}
			}
		}
		out = append(out, moduleFunction{name: name, params: params, doc: fn.Doc.Text()})
	}
	if !objects["Esteira"] || len(out) < 10 {
		t.Fatalf("found %d functions on %v: the parser no longer sees the module", len(out), objects)
	}
	return out
}

func receiver(fn *ast.FuncDecl) string {
	typ := fn.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	return typ.(*ast.Ident).Name
}

func types(e ast.Expr) string {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		if id, ok := sel.X.(*ast.Ident); ok {
			return id.Name + "." + sel.Sel.Name
		}
	}
	return ""
}

func TestSurface_NoFunctionTakesMoreThanEightParameters(t *testing.T) {
	for _, f := range moduleFunctions(t) {
		if len(f.params) > maxParams {
			t.Errorf("%s takes %d parameters (%s): at most %d; move the shared ones onto its object",
				f.name, len(f.params), strings.Join(f.params, ", "), maxParams)
		}
	}
}

func TestSurface_EveryVerbThatChangesAWSIsNeverCachedAndHasADryRun(t *testing.T) {
	for _, f := range moduleFunctions(t) {
		never := strings.Contains(f.doc, `+cache="never"`)
		method := f.name[strings.LastIndex(f.name, ".")+1:]
		for _, v := range mutatingVerbs {
			if method == v && !never {
				t.Errorf("%s changes AWS and is not marked // +cache=\"never\": a cached result would skip the change", f.name)
			}
		}
		if !never {
			continue
		}
		if _, ok := noDryRun[f.name]; ok {
			continue
		}
		hasDryRun := false
		for _, p := range f.params {
			hasDryRun = hasDryRun || p == "dryRun"
		}
		if !hasDryRun {
			t.Errorf("%s is marked +cache=\"never\" (it changes AWS) and has no dryRun parameter: add one that changes nothing, or mark a read +cache=\"session\"", f.name)
		}
	}
}
