// Command pulumi-resource-kubernetes is the Pulumi Kubernetes provider plugin,
// built from the provider's Go module (the version in ../go.mod), reporting
// the version toolchain.ts sets through pkg/version.Version.
//
// The module's own main package cannot be built from the module proxy: it
// embeds schema-embed.json and terraform-mapping-embed.json, which the
// provider's release build generates (the schema with its version filled in,
// both compacted) and which the module zip does not carry. This package serves
// the same provider; local/toolchain/toolchain.ts builds it from a staging
// copy of this module into which it writes those two files, generated from
// the module's schema.json and terraform-mapping.json. Building this folder
// directly fails on the missing files by design.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var pulumiSchema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
