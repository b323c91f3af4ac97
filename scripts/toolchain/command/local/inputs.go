// Package local describes the inputs of command:local:Command as Go types; see package remote for
// why the package and type names matter.
package local

// CommandInputs are the inputs of command:local:Command.
type CommandInputs struct {
	Triggers               *[]any             `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Create                 *string            `pulumi:"create,optional"`
	Update                 *string            `pulumi:"update,optional"`
	Delete                 *string            `pulumi:"delete,optional"`
	Stdin                  *string            `pulumi:"stdin,optional"`
	Logging                *Logging           `pulumi:"logging,optional"`
	Interpreter            *[]string          `pulumi:"interpreter,optional"`
	Dir                    *string            `pulumi:"dir,optional"`
	Environment            *map[string]string `pulumi:"environment,optional"`
	AssetPaths             *[]string          `pulumi:"assetPaths,optional"`
	ArchivePaths           *[]string          `pulumi:"archivePaths,optional"`
	AddPreviousOutputInEnv *bool              `pulumi:"addPreviousOutputInEnv,optional"`
}

// Logging is any string, as in remote.
type Logging string

// CommandOutputs is a local Command's state; see remote.CommandOutputs. (assets and archive are
// outputs of assetPaths/archivePaths, which harbor-ha's provider does not implement.)
type CommandOutputs struct {
	CommandInputs
	Stdout  string         `pulumi:"stdout"`
	Stderr  string         `pulumi:"stderr"`
	Assets  map[string]any `pulumi:"assets,optional"`
	Archive map[string]any `pulumi:"archive,optional"`
}
