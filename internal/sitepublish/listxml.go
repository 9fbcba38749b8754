package sitepublish

import (
	"bytes"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithytime "github.com/aws/smithy-go/time"
)

// decodeListV2 reads a ListBucketResult into what the SDK's deserializer
// would return, or reports false for anything but the plain shape S3
// servers send: elements without attributes (but the root's), text with
// XML's five entities at most, the fields the SDK knows. The caller then
// hands the response to the SDK.
func decodeListV2(data []byte) (*s3.ListObjectsV2Output, bool) {
	p := &xmlReader{b: data}
	if !p.prolog() || !p.root("ListBucketResult") {
		return nil, false
	}
	out := &s3.ListObjectsV2Output{}
	for p.ok {
		p.space()
		if p.closing() {
			p.end("ListBucketResult")
			break
		}
		switch name := p.start(); name {
		case "Contents":
			o := p.object()
			out.Contents = append(out.Contents, o)
		case "CommonPrefixes":
			var cp types.CommonPrefix
			for p.ok && !p.closeNext() {
				if p.start() != "Prefix" {
					p.ok = false
				}
				cp.Prefix = aws.String(p.value("Prefix"))
			}
			p.end("CommonPrefixes")
			out.CommonPrefixes = append(out.CommonPrefixes, cp)
		case "ContinuationToken":
			out.ContinuationToken = aws.String(p.value(name))
		case "Delimiter":
			out.Delimiter = aws.String(p.value(name))
		case "EncodingType":
			out.EncodingType = types.EncodingType(p.value(name))
		case "IsTruncated":
			b, err := strconv.ParseBool(p.value(name))
			p.check(err == nil)
			out.IsTruncated = aws.Bool(b)
		case "KeyCount":
			out.KeyCount = aws.Int32(int32(p.int(name)))
		case "MaxKeys":
			out.MaxKeys = aws.Int32(int32(p.int(name)))
		case "Name":
			out.Name = aws.String(p.value(name))
		case "NextContinuationToken":
			out.NextContinuationToken = aws.String(p.value(name))
		case "Prefix":
			out.Prefix = aws.String(p.value(name))
		case "StartAfter":
			out.StartAfter = aws.String(p.value(name))
		default:
			p.ok = false
		}
	}
	p.space()
	if !p.ok || p.i != len(p.b) {
		return nil, false
	}
	return out, true
}

func (p *xmlReader) object() types.Object {
	var o types.Object
	for p.ok && !p.closeNext() {
		switch name := p.start(); name {
		case "ChecksumAlgorithm":
			o.ChecksumAlgorithm = append(o.ChecksumAlgorithm, types.ChecksumAlgorithm(p.value(name)))
		case "ChecksumType":
			o.ChecksumType = types.ChecksumType(p.value(name))
		case "ETag":
			o.ETag = aws.String(p.value(name))
		case "Key":
			o.Key = aws.String(p.value(name))
		case "LastModified":
			o.LastModified = aws.Time(p.time(name))
		case "Size":
			o.Size = aws.Int64(p.int(name))
		case "StorageClass":
			o.StorageClass = types.ObjectStorageClass(p.value(name))
		case "Owner":
			o.Owner = &types.Owner{}
			for p.ok && !p.closeNext() {
				switch name := p.start(); name {
				case "DisplayName":
					o.Owner.DisplayName = aws.String(p.value(name))
				case "ID":
					o.Owner.ID = aws.String(p.value(name))
				default:
					p.ok = false
				}
			}
			p.end("Owner")
		default:
			p.ok = false
		}
	}
	p.end("Contents")
	return o
}

// xmlReader reads the plain XML decodeListV2 accepts; ok turns false at the
// first thing it does not.
type xmlReader struct {
	b  []byte
	i  int
	ok bool
}

func (p *xmlReader) check(cond bool) {
	if !cond {
		p.ok = false
	}
}

func (p *xmlReader) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// prolog skips an XML declaration that says UTF-8 or no encoding.
func (p *xmlReader) prolog() bool {
	p.ok = true
	p.space()
	if !bytes.HasPrefix(p.b[p.i:], []byte("<?xml")) {
		return true
	}
	end := bytes.Index(p.b[p.i:], []byte("?>"))
	if end < 0 {
		return false
	}
	decl := strings.ToLower(string(p.b[p.i : p.i+end]))
	if i := strings.Index(decl, "encoding="); i >= 0 {
		enc := strings.Fields(decl[i+len("encoding="):])
		if len(enc) == 0 || strings.Trim(strings.TrimSuffix(enc[0], "?>"), `"'`) != "utf-8" {
			return false
		}
	}
	p.i += end + 2
	return true
}

// root reads the root's start tag, which may carry attributes (xmlns).
func (p *xmlReader) root(name string) bool {
	p.space()
	tag := "<" + name
	if !bytes.HasPrefix(p.b[p.i:], []byte(tag)) {
		return false
	}
	rest := p.b[p.i+len(tag):]
	end := bytes.IndexByte(rest, '>')
	if end < 0 || (end > 0 && rest[0] != ' ' && rest[0] != '\t' && rest[0] != '\n' && rest[0] != '\r') || (end > 0 && rest[end-1] == '/') {
		return false
	}
	p.i += len(tag) + end + 1
	return true
}

// start reads <Name> and returns Name.
func (p *xmlReader) start() string {
	p.space()
	if !p.ok || p.i >= len(p.b) || p.b[p.i] != '<' {
		p.ok = false
		return ""
	}
	j := p.i + 1
	for j < len(p.b) && (p.b[j] >= 'A' && p.b[j] <= 'Z' || p.b[j] >= 'a' && p.b[j] <= 'z') {
		j++
	}
	if j == p.i+1 || j >= len(p.b) || p.b[j] != '>' {
		p.ok = false
		return ""
	}
	name := string(p.b[p.i+1 : j])
	p.i = j + 1
	return name
}

// closing reports whether an end tag comes next.
func (p *xmlReader) closing() bool {
	return p.i+1 < len(p.b) && p.b[p.i] == '<' && p.b[p.i+1] == '/'
}

// closeNext skips space and reports whether an end tag comes next.
func (p *xmlReader) closeNext() bool {
	p.space()
	return p.closing()
}

// end reads </name>.
func (p *xmlReader) end(name string) {
	if !p.ok {
		return
	}
	p.space()
	n := len(name) + 3
	if p.i+n > len(p.b) || string(p.b[p.i:p.i+2]) != "</" || string(p.b[p.i+2:p.i+n-1]) != name || p.b[p.i+n-1] != '>' {
		p.ok = false
		return
	}
	p.i += n
}

// value reads the text of the element just opened and its end tag.
func (p *xmlReader) value(name string) string {
	if !p.ok {
		return ""
	}
	j := bytes.IndexByte(p.b[p.i:], '<')
	if j < 0 {
		p.ok = false
		return ""
	}
	s, ok := xmlText(p.b[p.i : p.i+j])
	p.i += j
	n := len(name) + 3
	if !ok || p.i+n > len(p.b) || p.b[p.i+1] != '/' || string(p.b[p.i+2:p.i+n-1]) != name || p.b[p.i+n-1] != '>' {
		p.ok = false
		return ""
	}
	p.i += n
	return s
}

func (p *xmlReader) int(name string) int64 {
	n, err := strconv.ParseInt(p.value(name), 10, 64)
	p.check(err == nil)
	return n
}

func (p *xmlReader) time(name string) time.Time {
	t, err := smithytime.ParseDateTime(p.value(name))
	p.check(err == nil)
	return t
}

// xmlText decodes character data: valid XML characters, no raw carriage
// return (XML turns it into a newline), the five named entities and
// character references (Go's encoding/xml, which S3 servers written in Go
// use, writes a quote as &#34;).
func xmlText(b []byte) (string, bool) {
	plain := true
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '&':
			plain = false
		case c < 0x20 && c != '\t' && c != '\n', c == '>' && i >= 2 && b[i-1] == ']' && b[i-2] == ']':
			return "", false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF {
				return "", false
			}
			i += size - 1
		}
	}
	if plain {
		return string(b), true
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		i := bytes.IndexByte(b, '&')
		if i < 0 {
			sb.Write(b)
			break
		}
		sb.Write(b[:i])
		b = b[i:]
		semi := bytes.IndexByte(b, ';')
		if semi < 0 {
			return "", false
		}
		switch string(b[1:semi]) {
		case "amp":
			sb.WriteByte('&')
		case "lt":
			sb.WriteByte('<')
		case "gt":
			sb.WriteByte('>')
		case "quot":
			sb.WriteByte('"')
		case "apos":
			sb.WriteByte('\'')
		default:
			r, ok := charRef(string(b[1:semi]))
			if !ok {
				return "", false
			}
			sb.WriteRune(r)
		}
		b = b[semi+1:]
	}
	return sb.String(), true
}

// charRef reads the #NN or #xHH of a character reference; it must name a
// character XML allows.
func charRef(ref string) (rune, bool) {
	digits, base := strings.TrimPrefix(ref, "#"), 10
	if len(digits) == len(ref) {
		return 0, false
	}
	if strings.HasPrefix(digits, "x") {
		digits, base = digits[1:], 16
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return 0, false
	}
	r := rune(n)
	ok := r == '\t' || r == '\n' || r == '\r' || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
	return r, ok
}
