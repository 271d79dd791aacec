package extract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
)

// field is one member of a JSON object; objects keep their order because
// the order of text in the file is the reading order.
type field struct {
	key string
	val any
}

type object []field

func (o object) get(key string) (any, bool) {
	for _, f := range o {
		if f.key == key {
			return f.val, true
		}
	}
	return nil, false
}

// bodyKeys hold the main text of a document object.
var bodyKeys = []string{"text", "content", "body", "abstract"}

const maxJSONDepth = 100

// extractJSON reads a document object ({"title", "text"|"content"|"body"|
// "abstract", "sections"}), an array of paragraphs, or any other JSON whose
// string leaves become sections headed by their key path.
func extractJSON(data []byte, max int64) (Document, error) {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, bom)))
	dec.UseNumber()
	v, err := decodeJSON(dec, 0)
	if err == nil {
		if _, err = dec.Token(); err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("data after the top-level value")
		}
	}
	if err != nil {
		return Document{}, fmt.Errorf("%w: json: %v", ErrMalformed, err)
	}

	b := builder{max: max}
	obj, isObj := v.(object)
	if !isObj {
		flatten(&b, v, nil)
		return b.result()
	}
	if !isDocObject(obj) {
		for _, f := range obj {
			if t, ok := f.val.(string); ok && f.key == "title" && b.doc.Title == "" {
				b.doc.Title = t
				continue
			}
			flatten(&b, f.val, []string{f.key})
		}
		return b.result()
	}
	if err := documentObject(&b, obj); err != nil {
		return Document{}, fmt.Errorf("%w: json: %v", ErrMalformed, err)
	}
	return b.result()
}

func isDocObject(o object) bool {
	return slices.ContainsFunc(o, func(f field) bool {
		return f.key == "sections" || slices.Contains(bodyKeys, f.key)
	})
}

// documentObject reads the known document shape, in file order.
func documentObject(b *builder, o object) error {
	for _, f := range o {
		switch {
		case f.key == "title":
			t, ok := f.val.(string)
			if !ok && f.val != nil {
				return errors.New(`"title" must be a string`)
			}
			b.doc.Title = t
		case slices.Contains(bodyKeys, f.key):
			text, err := paragraphs(f.val)
			if err != nil {
				return fmt.Errorf("%q %w", f.key, err)
			}
			b.add(nil, 0, text)
		case f.key == "sections":
			list, ok := f.val.([]any)
			if !ok {
				return errors.New(`"sections" must be an array`)
			}
			for i, s := range list {
				if err := jsonSection(b, s); err != nil {
					return fmt.Errorf("sections[%d]: %w", i, err)
				}
			}
		}
	}
	return nil
}

func jsonSection(b *builder, v any) error {
	o, ok := v.(object)
	if !ok {
		return errors.New("must be an object")
	}
	var heading []string
	if h, ok := o.get("heading"); ok {
		switch h := h.(type) {
		case string:
			heading = []string{h}
		case []any:
			for _, p := range h {
				s, ok := p.(string)
				if !ok {
					return errors.New(`"heading" must be a string or an array of strings`)
				}
				heading = append(heading, s)
			}
		case nil:
		default:
			return errors.New(`"heading" must be a string or an array of strings`)
		}
	}
	page := 0
	if p, ok := o.get("page"); ok && p != nil {
		n, _ := p.(json.Number)
		i, err := n.Int64()
		if err != nil || i < 0 || i > math.MaxInt32 {
			return errors.New(`"page" must be a non-negative integer`)
		}
		page = int(i)
	}
	t, _ := o.get("text")
	text, err := paragraphs(t)
	if err != nil {
		return fmt.Errorf(`"text" %w`, err)
	}
	b.add(heading, page, text)
	return nil
}

// paragraphs joins a string or an array of strings into paragraphs.
func paragraphs(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []any:
		parts := make([]string, len(v))
		for i, p := range v {
			s, ok := p.(string)
			if !ok {
				return "", errors.New("must be a string or an array of strings")
			}
			parts[i] = s
		}
		return strings.Join(parts, "\n\n"), nil
	}
	return "", errors.New("must be a string or an array of strings")
}

// flatten adds every string leaf under the path of object keys leading to
// it; array indices add nothing to the path.
func flatten(b *builder, v any, path []string) {
	switch v := v.(type) {
	case string:
		b.add(path, 0, v)
	case []any:
		for _, e := range v {
			flatten(b, e, path)
		}
	case object:
		for _, f := range v {
			flatten(b, f.val, append(slices.Clip(path), f.key))
		}
	}
}

// decodeJSON reads one value, keeping object key order.
func decodeJSON(dec *json.Decoder, depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		var o object
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeJSON(dec, depth+1)
			if err != nil {
				return nil, err
			}
			o = append(o, field{k.(string), v})
		}
		_, err = dec.Token() // closing brace
		return o, err
	case json.Delim('['):
		a := []any{}
		for dec.More() {
			v, err := decodeJSON(dec, depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err = dec.Token() // closing bracket
		return a, err
	}
	return tok, nil
}
