package openapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/getkin/kin-openapi/openapi3"
	"go.yaml.in/yaml/v4"

	"github.com/voiceassist/gateway/gen/api"
)

// Load returns the contract the gateway validates with: the document api.GetSwagger returns
// (the JSON rendering gen/api embeds, which `make check-generated` keeps in step with
// openapi.yaml), read in about a third of its CPU time. kin-openapi reads every document,
// JSON included, with its YAML parser, whose tokenizer spends most of that time on JSON's
// flow style; here encoding/json reads the text into the node tree that parser would have
// built, and kin-openapi decodes that tree and resolves the references as it always does.
// Parsing the contract was the largest single cost of start-up (issue 17, docs/benchmarks.md
// § "Start-up and idle memory"); TestLoadMatchesGetSwagger proves the two documents equal.
func Load() (*openapi3.T, error) {
	data, err := api.GetSpecJSON()
	if err != nil {
		return nil, fmt.Errorf("openapi: embedded contract: %w", err)
	}
	root, err := JSONNode(data)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse the embedded contract: %w", err)
	}
	doc := &openapi3.T{}
	if err := root.Decode(doc); err != nil {
		return nil, fmt.Errorf("openapi: decode the embedded contract: %w", err)
	}
	// One self-contained document: external references stay disallowed.
	if err := openapi3.NewLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, fmt.Errorf("openapi: resolve the embedded contract: %w", err)
	}
	return doc, nil
}

// JSONNode reads one JSON document into the node tree the YAML parser makes of it: keys and
// strings tagged !!str, numbers !!int or !!float as YAML resolves them, so that kin-openapi
// decodes examples and defaults to the same Go values either way. It scans the bytes itself:
// encoding/json's Token API spent a third of Load's CPU (issue 17); strings with escapes are
// still decoded by encoding/json. TestJSONNodeMatchesDecoder compares both.
func JSONNode(data []byte) (*yaml.Node, error) {
	s := &nodeScanner{b: data}
	n, err := s.value(0)
	if err != nil {
		return nil, err
	}
	s.space()
	if s.i != len(s.b) {
		return nil, s.fail("data after the document")
	}
	return n, nil
}

// maxDepth bounds the recursion (the contract nests about 20 levels).
const maxDepth = 512

type nodeScanner struct {
	b    []byte
	i    int
	slab []yaml.Node // nodes are cut from slabs: one allocation per 512 instead of one each
}

func (s *nodeScanner) node(kind yaml.Kind, tag, value string) *yaml.Node {
	if len(s.slab) == cap(s.slab) {
		s.slab = make([]yaml.Node, 0, 512)
	}
	s.slab = append(s.slab, yaml.Node{Kind: kind, Tag: tag, Value: value})
	return &s.slab[len(s.slab)-1]
}

func (s *nodeScanner) fail(what string) error {
	return fmt.Errorf("offset %d: %s", s.i, what)
}

func (s *nodeScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *nodeScanner) value(depth int) (*yaml.Node, error) {
	if depth > maxDepth {
		return nil, s.fail("nested too deeply")
	}
	s.space()
	if s.i >= len(s.b) {
		return nil, s.fail("unexpected end")
	}
	switch c := s.b[s.i]; {
	case c == '{' || c == '[':
		return s.collection(depth)
	case c == '"':
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		return s.node(yaml.ScalarNode, "!!str", v), nil
	case c == 't':
		return s.literal("true", "!!bool")
	case c == 'f':
		return s.literal("false", "!!bool")
	case c == 'n':
		return s.literal("null", "!!null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return nil, s.fail("unexpected character")
}

func (s *nodeScanner) collection(depth int) (*yaml.Node, error) {
	open := s.b[s.i]
	s.i++
	n := s.node(yaml.SequenceNode, "!!seq", "")
	closing := byte(']')
	if open == '{' {
		n.Kind, n.Tag, closing = yaml.MappingNode, "!!map", '}'
	}
	s.space()
	if s.i < len(s.b) && s.b[s.i] == closing {
		s.i++
		return n, nil
	}
	for {
		if open == '{' {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return nil, s.fail("object key expected")
			}
			k, err := s.str()
			if err != nil {
				return nil, err
			}
			s.space()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return nil, s.fail("colon expected")
			}
			s.i++
			n.Content = append(n.Content, s.node(yaml.ScalarNode, "!!str", k))
		}
		v, err := s.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, v)
		s.space()
		if s.i >= len(s.b) {
			return nil, s.fail("unexpected end")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case closing:
			s.i++
			return n, nil
		default:
			return nil, s.fail("comma or end expected")
		}
	}
}

// str reads a string at s.i (its opening quote). Plain ones are cut from the input; one with
// an escape, a control character or a byte outside ASCII goes through encoding/json, which
// also replaces invalid UTF-8 as the decoder did.
func (s *nodeScanner) str() (string, error) {
	start := s.i
	s.i++
	plain := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if plain {
				return string(s.b[start+1 : s.i-1]), nil
			}
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return "", fmt.Errorf("offset %d: %w", start, err)
			}
			return v, nil
		case c == '\\':
			plain = false
			s.i += 2
			continue
		case c < 0x20 || c >= 0x80:
			plain = false
		}
		s.i++
	}
	return "", s.fail("unterminated string")
}

func (s *nodeScanner) literal(word, tag string) (*yaml.Node, error) {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return nil, s.fail("unexpected literal")
	}
	s.i += len(word)
	return s.node(yaml.ScalarNode, tag, word), nil
}

// number reads a JSON number; its text is kept as json.Number kept it, tagged !!int when it
// is a 64-bit integer (json.Number.Int64) and !!float otherwise.
func (s *nodeScanner) number() (*yaml.Node, error) {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' || c >= '0' && c <= '9' {
			s.i++
			continue
		}
		break
	}
	text := string(s.b[start:s.i])
	if !json.Valid(s.b[start:s.i]) {
		s.i = start
		return nil, s.fail("invalid number")
	}
	tag := "!!float"
	if _, err := strconv.ParseInt(text, 10, 64); err == nil {
		tag = "!!int"
	}
	return s.node(yaml.ScalarNode, tag, text), nil
}
