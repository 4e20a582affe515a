//go:build tools

// Package tools pins the Pulumi CLI into this module so `go build` can build it
// from the Go module proxy (the upstream go.mod files use relative replaces,
// so `go install github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@v3.x` refuses).
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
