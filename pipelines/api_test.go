package pipelines_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// moduleAPI is what `dagger call` accepts for one Dagger Go module, read from
// its source the way the Go SDK registers it: every exported method and every
// exported, non-+private field of a struct type is a function; a method's
// parameters except a context.Context are its flags; New's parameters are the
// constructor flags that go before the first function name.
type moduleAPI struct {
	root        string              // the main object, e.g. "Esteira"
	constructor map[string]flagSpec // kebab flag -> spec
	objects     map[string]map[string]funcSpec
}

// funcSpec is one callable function: its flags and the type it returns
// (an object of this module, a core type like "Container", or "" for scalars).
// field marks an exported struct field, which Dagger also serves as a
// function.
type funcSpec struct {
	flags  map[string]flagSpec
	result string
	field  bool
}

// flagSpec says whether a flag takes a value (a bool flag may stand alone),
// whether it must be given (no +optional or +default pragma), and whether it
// is a *dagger.Secret, whose value must name a source such as env:NAME.
type flagSpec struct {
	isBool   bool
	isSecret bool
	required bool
}

// loadModuleAPI parses the non-generated .go files in dir. root is the main
// object's Go name (Dagger derives it from the module name: esteira -> Esteira).
func loadModuleAPI(dir, root string) (*moduleAPI, error) {
	files, err := parseModuleFiles(dir)
	if err != nil {
		return nil, err
	}
	api := &moduleAPI{root: root, objects: map[string]map[string]funcSpec{}}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				api.addFunc(f, d)
			case *ast.GenDecl:
				api.addStructFields(d)
			}
		}
	}
	if _, ok := api.objects[root]; !ok {
		return nil, fmt.Errorf("no exported methods or fields on %s in %s: is %q the module's main object?", root, dir, root)
	}
	if api.constructor == nil {
		api.constructor = map[string]flagSpec{}
	}
	return api, nil
}

func parseModuleFiles(dir string) ([]*ast.File, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, fmt.Errorf("list go files in %s: %w", dir, err)
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range names {
		base := filepath.Base(name)
		if base == "dagger.gen.go" || strings.HasSuffix(base, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files (other than dagger.gen.go) in %s", dir)
	}
	return files, nil
}

func (api *moduleAPI) addFunc(f *ast.File, d *ast.FuncDecl) {
	if !d.Name.IsExported() {
		return
	}
	if d.Recv == nil {
		if d.Name.Name == "New" {
			api.constructor = paramFlags(f, d.Type.Params)
		}
		return
	}
	recv := typeName(d.Recv.List[0].Type)
	api.object(recv)[cliName(d.Name.Name)] = funcSpec{flags: paramFlags(f, d.Type.Params), result: resultType(d.Type.Results)}
}

func (api *moduleAPI) addStructFields(d *ast.GenDecl) {
	for _, spec := range d.Specs {
		ts, ok := spec.(*ast.TypeSpec)
		if !ok || !ts.Name.IsExported() {
			continue
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			continue
		}
		for _, field := range st.Fields.List {
			if field.Doc != nil && strings.Contains(field.Doc.Text(), "+private") {
				continue
			}
			for _, name := range field.Names {
				if name.IsExported() {
					api.object(ts.Name.Name)[cliName(name.Name)] = funcSpec{flags: map[string]flagSpec{}, result: typeName(field.Type), field: true}
				}
			}
		}
	}
}

func (api *moduleAPI) object(name string) map[string]funcSpec {
	if api.objects[name] == nil {
		api.objects[name] = map[string]funcSpec{}
	}
	return api.objects[name]
}

// paramFlags turns parameters into kebab-case flags, leaving out ctx. A
// parameter is required unless the comment above it carries +optional or a
// +default/+defaultPath pragma, as the Go SDK registers it.
func paramFlags(f *ast.File, params *ast.FieldList) map[string]flagSpec {
	flags := map[string]flagSpec{}
	if params == nil {
		return flags
	}
	prev := params.Opening
	for _, p := range params.List {
		doc := commentsBetween(f, prev, p.Pos())
		prev = p.End()
		if sel, ok := p.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
			continue
		}
		ident, isIdent := p.Type.(*ast.Ident)
		spec := flagSpec{
			isBool:   isIdent && ident.Name == "bool",
			isSecret: typeName(p.Type) == "Secret",
			required: !strings.Contains(doc, "+optional") && !strings.Contains(doc, "+default"),
		}
		for _, name := range p.Names {
			flags[cliName(name.Name)] = spec
		}
	}
	return flags
}

// commentsBetween joins the text of f's comments that lie between from and to.
func commentsBetween(f *ast.File, from, to token.Pos) string {
	var b strings.Builder
	for _, c := range f.Comments {
		if c.Pos() > from && c.End() <= to {
			b.WriteString(c.Text())
		}
	}
	return b.String()
}

// resultType is the name of the first result's type: "Container" for
// *dagger.Container, "Esteira" for *Esteira, "" for scalars and lists.
func resultType(results *ast.FieldList) string {
	if results == nil || len(results.List) == 0 {
		return ""
	}
	return typeName(results.List[0].Type)
}

func typeName(expr ast.Expr) string {
	switch t := expr.(type) {
	case *ast.StarExpr:
		return typeName(t.X)
	case *ast.SelectorExpr:
		return t.Sel.Name
	case *ast.Ident:
		if t.IsExported() {
			return t.Name
		}
	}
	return ""
}

// names lists keys sorted, for error messages.
func names[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// cliName is the name `dagger call` shows for a Go identifier. The Go SDK
// registers names with strcase.ToLowerCamel and the CLI turns them into flags
// and sub-commands with strcase.ToKebab (github.com/iancoleman/strcase v0.3,
// cmd/dagger's cliName). Both are reproduced here byte for byte, acronym and
// digit quirks included: AwsAccessKeyID -> aws-access-key-id, S3Bucket ->
// s-3-bucket.
func cliName(goName string) string {
	return toKebab(toLowerCamel(goName))
}

func toLowerCamel(s string) string {
	s = strings.TrimSpace(s)
	var n strings.Builder
	capNext, prevIsCap := false, false
	for i, v := range []byte(s) {
		vIsCap := v >= 'A' && v <= 'Z'
		vIsLow := v >= 'a' && v <= 'z'
		switch {
		case capNext:
			if vIsLow {
				v -= 'a' - 'A'
			}
		case i == 0 && vIsCap, prevIsCap && vIsCap:
			v += 'a' - 'A'
		}
		prevIsCap = vIsCap
		switch {
		case vIsCap || vIsLow:
			n.WriteByte(v)
			capNext = false
		case v >= '0' && v <= '9':
			n.WriteByte(v)
			capNext = true
		default:
			capNext = v == '_' || v == ' ' || v == '-' || v == '.'
		}
	}
	return n.String()
}

func toKebab(s string) string {
	s = strings.TrimSpace(s)
	var n strings.Builder
	for i, v := range []byte(s) {
		vIsCap := v >= 'A' && v <= 'Z'
		vIsLow := v >= 'a' && v <= 'z'
		if vIsCap {
			v += 'a' - 'A'
		}
		if i+1 < len(s) {
			next := s[i+1]
			vIsNum := v >= '0' && v <= '9'
			nextIsCap := next >= 'A' && next <= 'Z'
			nextIsLow := next >= 'a' && next <= 'z'
			nextIsNum := next >= '0' && next <= '9'
			if (vIsCap && (nextIsLow || nextIsNum)) || (vIsLow && (nextIsCap || nextIsNum)) || (vIsNum && (nextIsCap || nextIsLow)) {
				if vIsCap && nextIsLow && i > 0 && s[i-1] >= 'A' && s[i-1] <= 'Z' {
					n.WriteByte('-')
				}
				n.WriteByte(v)
				if vIsLow || vIsNum || nextIsNum {
					n.WriteByte('-')
				}
				continue
			}
		}
		if v == ' ' || v == '_' || v == '-' || v == '.' {
			n.WriteByte('-')
		} else {
			n.WriteByte(v)
		}
	}
	return n.String()
}
