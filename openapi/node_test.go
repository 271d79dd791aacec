package openapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/openapi"
)

// TestJSONNodeMatchesDecoder: the scanner builds the tree encoding/json's tokens build (the
// way Load read the contract before), for the contract and for inputs it does not contain.
func TestJSONNodeMatchesDecoder(t *testing.T) {
	contract, err := api.GetSpecJSON()
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{contract,
		[]byte(`{"a":"plain","b":"esc\"aped\\ \/ \n \u00e9 \ud83d\ude00","c":"é ü 中文","d":"bad ` + "\xff" + ` utf-8"}`),
		[]byte(` [ 0, -0, 1, -12, 1.0, 1e5, 1E-2, 9223372036854775807, 9223372036854775808, -9223372036854775808, 0.5 ] `),
		[]byte(`{"t":true,"f":false,"n":null,"e":{},"s":[],"nested":[[{"x":[1,{"y":null}]}]]}`),
		[]byte(`"just a string"`), []byte(`42`), []byte(`{"dup":1,"dup":2}`),
	}
	for i, in := range inputs {
		want, err := tokenNode(in)
		if err != nil {
			t.Fatalf("input %d: reference: %v", i, err)
		}
		got, err := openapi.JSONNode(in)
		if err != nil {
			t.Fatalf("input %d: %v", i, err)
		}
		if !reflect.DeepEqual(plain(got), plain(want)) {
			t.Fatalf("input %d: trees differ\n got %v\nwant %v", i, plain(got), plain(want))
		}
	}
}

func TestJSONNodeRefusesBrokenJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1 2]`, `[1,]`, `"open`, `tru`,
		`nul`, `-`, `01`, `1.`, `{"a":1} x`, `{a:1}`, `[` + string(bytes.Repeat([]byte("["), 600))} {
		if _, err := openapi.JSONNode([]byte(in)); err == nil {
			t.Errorf("%q: accepted", in)
		}
		if json.Valid([]byte(in)) {
			t.Errorf("%q is valid JSON: the case is wrong", in)
		}
	}
}

// plain reduces a node tree to what the decoder reads (kind, tag, value, children).
func plain(n *yaml.Node) any {
	kids := make([]any, len(n.Content))
	for i, c := range n.Content {
		kids[i] = plain(c)
	}
	return []any{n.Kind, n.Tag, n.Value, kids}
}

// tokenNode is the reference: the tree built from encoding/json's tokens.
func tokenNode(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := tokenValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the document")
	}
	return n, nil
}

func tokenValue(dec *json.Decoder) (*yaml.Node, error) {
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
			v, err := tokenValue(dec)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, v)
		}
		if _, err := dec.Token(); err != nil {
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
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}
