package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := jsonNode(dec)
	if err != nil {
		return nil, fmt.Errorf("openapi: parse the embedded contract: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("openapi: parse the embedded contract: data after the document")
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

// jsonNode reads the next JSON value as the YAML node the YAML parser makes of it: keys and
// strings tagged !!str, numbers !!int or !!float as YAML resolves them, so that kin-openapi
// decodes examples and defaults to the same Go values either way.
func jsonNode(dec *json.Decoder) (*yaml.Node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if t == '{' {
			n.Kind, n.Tag = yaml.MappingNode, "!!map"
		}
		for dec.More() {
			if n.Kind == yaml.MappingNode {
				k, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k.(string)})
			}
			v, err := jsonNode(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}, nil
	case json.Number:
		tag := "!!float"
		if _, err := t.Int64(); err == nil {
			tag = "!!int"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: t.String()}, nil
	case bool:
		v := "false"
		if t {
			v = "true"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: v}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}
