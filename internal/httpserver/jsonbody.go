package httpserver

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// parseJSON decodes a whole request body in one pass into the values the contract validator
// checks (map[string]any, []any, string, json.Number, bool, nil: what encoding/json with
// UseNumber gives), applying the input rules on the way: a duplicate object key (compared
// after unescaping) and nesting deeper than maxJSONDepth fail with errDuplicate and errDepth
// and the path of the offending element; malformed JSON, or anything but whitespace after
// the value, fails with errSyntax. The first failure in document order wins. The body must
// already be valid UTF-8.
//
// It replaces a token walk for the rules followed by a second decode for the validator: the
// value it returns is the one validated, so a body is parsed once before the handler binds it.
func parseJSON(body []byte) (any, string, error) {
	p := jsonParser{b: body}
	p.space()
	v, err := p.value()
	if err != nil {
		return nil, p.errPath, err
	}
	p.space()
	if p.i != len(p.b) {
		return nil, "", errSyntax
	}
	return v, "", nil
}

type jsonParser struct {
	b       []byte
	i       int
	stack   []jsonStep // where the parser is: one step per open container
	errPath string
}

// jsonStep is one open container: the current key of an object or index of an array.
type jsonStep struct {
	key   string
	index int
	array bool
}

// fail records the path of the current element (plus last, for a key) and returns err.
func (p *jsonParser) fail(err error, last string) error {
	parts := make([]string, 0, len(p.stack)+1)
	for _, s := range p.stack {
		if s.array {
			parts = append(parts, strconv.Itoa(s.index))
		} else {
			parts = append(parts, s.key)
		}
	}
	if last != "" {
		parts = append(parts, last)
	}
	if len(parts) == 0 {
		p.errPath = "body"
	} else {
		p.errPath = strings.Join(parts, ".")
	}
	return err
}

func (p *jsonParser) space() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (any, error) {
	if p.i >= len(p.b) {
		return nil, errSyntax
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case p.literal("true"):
		return true, nil
	case p.literal("false"):
		return false, nil
	case p.literal("null"):
		return nil, nil
	}
	return nil, errSyntax
}

func (p *jsonParser) literal(word string) bool {
	if len(p.b)-p.i >= len(word) && string(p.b[p.i:p.i+len(word)]) == word {
		p.i += len(word)
		return true
	}
	return false
}

// open enters a container, refusing one nested too deeply (named by where it sits).
func (p *jsonParser) open(array bool) error {
	if len(p.stack) >= maxJSONDepth {
		return p.fail(errDepth, "")
	}
	p.stack = append(p.stack, jsonStep{array: array})
	p.i++ // past { or [
	return nil
}

func (p *jsonParser) object() (any, error) {
	if err := p.open(false); err != nil {
		return nil, err
	}
	obj := map[string]any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		p.stack = p.stack[:len(p.stack)-1]
		return obj, nil
	}
	for {
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, errSyntax
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		k := key.(string)
		if _, dup := obj[k]; dup {
			p.stack = p.stack[:len(p.stack)-1]
			return nil, p.fail(errDuplicate, k)
		}
		p.stack[len(p.stack)-1].key = k
		p.space()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, errSyntax
		}
		p.i++
		p.space()
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		obj[k] = v
		p.space()
		if p.i >= len(p.b) {
			return nil, errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			p.stack = p.stack[:len(p.stack)-1]
			return obj, nil
		default:
			return nil, errSyntax
		}
	}
}

func (p *jsonParser) array() (any, error) {
	if err := p.open(true); err != nil {
		return nil, err
	}
	arr := []any{}
	p.space()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		p.stack = p.stack[:len(p.stack)-1]
		return arr, nil
	}
	for {
		p.space()
		p.stack[len(p.stack)-1].index = len(arr)
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		arr = append(arr, v)
		p.space()
		if p.i >= len(p.b) {
			return nil, errSyntax
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			p.stack = p.stack[:len(p.stack)-1]
			return arr, nil
		default:
			return nil, errSyntax
		}
	}
}

// str reads a string at p.i (the opening quote). Without escapes it is one allocation.
func (p *jsonParser) str() (any, error) {
	start := p.i + 1
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			p.i = j + 1
			return string(p.b[start:j]), nil
		case c == '\\':
			return p.escaped(start, j)
		case c < 0x20:
			return nil, errSyntax
		}
	}
	return nil, errSyntax
}

// escaped finishes a string holding escapes, from its first backslash at j. Lone surrogates
// become U+FFFD, as encoding/json does.
func (p *jsonParser) escaped(start, j int) (any, error) {
	out := make([]byte, 0, len(p.b)-start)
	out = append(out, p.b[start:j]...)
	for j < len(p.b) {
		c := p.b[j]
		switch {
		case c == '"':
			p.i = j + 1
			return string(out), nil
		case c < 0x20:
			return nil, errSyntax
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(p.b) {
			return nil, errSyntax
		}
		switch e := p.b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(p.b, j+2)
			if !ok {
				return nil, errSyntax
			}
			j += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(p.b, j+2); ok && j+1 < len(p.b) && p.b[j] == '\\' && p.b[j+1] == 'u' {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						out = utf8.AppendRune(out, d)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, errSyntax
		}
		j += 2
	}
	return nil, errSyntax
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? as a json.Number.
func (p *jsonParser) number() (any, error) {
	start, j := p.i, p.i
	if p.b[j] == '-' {
		j++
	}
	digits := func() bool {
		k := j
		for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
			j++
		}
		return j > k
	}
	switch {
	case j < len(p.b) && p.b[j] == '0':
		j++
	case !digits():
		return nil, errSyntax
	}
	if j < len(p.b) && p.b[j] == '.' {
		j++
		if !digits() {
			return nil, errSyntax
		}
	}
	if j < len(p.b) && (p.b[j] == 'e' || p.b[j] == 'E') {
		j++
		if j < len(p.b) && (p.b[j] == '+' || p.b[j] == '-') {
			j++
		}
		if !digits() {
			return nil, errSyntax
		}
	}
	p.i = j
	return json.Number(p.b[start:j]), nil
}
