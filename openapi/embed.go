// Package openapi holds the API contract, the source of gen/api and gen/client.
package openapi

import _ "embed"

// YAML is the contract as written, served at /openapi.yaml.
//
//go:embed openapi.yaml
var YAML []byte
