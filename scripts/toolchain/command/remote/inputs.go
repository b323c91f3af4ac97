// Package remote describes the inputs of @pulumi/command's remote resources as Go types.
//
// The provider decodes inputs into these types with the Pulumi SDK's mapper only to validate them:
// the mapper's messages name the Go type ("Missing required field 'host' on 'remote.Connection'"),
// and @pulumi/command 1.2.1 reports exactly those messages as Check failures, so the package and
// type names here are part of the protocol and must not change. Tags: `pulumi:"name[,optional]"`
// as the mapper reads them; `provider:"secret"` marks an input the provider returns as a secret;
// `provider:"replaceOnChanges"` a property whose addition or removal replaces the resource.
package remote

// CommandInputs are the inputs of command:remote:Command.
type CommandInputs struct {
	Triggers               *[]any            `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Create                 *string           `pulumi:"create,optional"`
	Update                 *string           `pulumi:"update,optional"`
	Delete                 *string           `pulumi:"delete,optional"`
	Stdin                  *string           `pulumi:"stdin,optional"`
	Logging                *Logging          `pulumi:"logging,optional"`
	Connection             *Connection       `pulumi:"connection" provider:"secret"`
	Environment            map[string]string `pulumi:"environment,optional"`
	AddPreviousOutputInEnv *bool             `pulumi:"addPreviousOutputInEnv,optional"`
}

// Logging is any string: @pulumi/command 1.2.1 does not reject values outside its enum.
type Logging string

// Connection is how to reach the host. Defaults are filled in by Check.
type Connection struct {
	User               *string          `pulumi:"user,optional"`
	Password           *string          `pulumi:"password,optional" provider:"secret"`
	Host               *string          `pulumi:"host"`
	Port               *float64         `pulumi:"port,optional"`
	PrivateKey         *string          `pulumi:"privateKey,optional" provider:"secret"`
	PrivateKeyPassword *string          `pulumi:"privateKeyPassword,optional" provider:"secret"`
	AgentSocketPath    *string          `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int             `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int             `pulumi:"perDialTimeout,optional"`
	HostKey            *string          `pulumi:"hostKey,optional"`
	Proxy              *ProxyConnection `pulumi:"proxy,optional"`
}

// Defaults of Connection's optional fields, as filled in by Check.
func (Connection) Defaults() map[string]any {
	return map[string]any{"user": "root", "port": 22.0, "dialErrorLimit": 10.0, "perDialTimeout": 15.0}
}

// ProxyConnection is a bastion host: Connection without a proxy of its own.
type ProxyConnection struct {
	User               *string  `pulumi:"user,optional"`
	Password           *string  `pulumi:"password,optional" provider:"secret"`
	Host               *string  `pulumi:"host"`
	Port               *float64 `pulumi:"port,optional"`
	PrivateKey         *string  `pulumi:"privateKey,optional" provider:"secret"`
	PrivateKeyPassword *string  `pulumi:"privateKeyPassword,optional" provider:"secret"`
	AgentSocketPath    *string  `pulumi:"agentSocketPath,optional"`
	DialErrorLimit     *int     `pulumi:"dialErrorLimit,optional"`
	PerDialTimeout     *int     `pulumi:"perDialTimeout,optional"`
	HostKey            *string  `pulumi:"hostKey,optional"`
}

// Defaults of ProxyConnection's optional fields.
func (ProxyConnection) Defaults() map[string]any { return Connection{}.Defaults() }

// CopyToRemoteInputs are the inputs of command:remote:CopyToRemote.
type CopyToRemoteInputs struct {
	Connection *Connection    `pulumi:"connection" provider:"secret"`
	Triggers   *[]any         `pulumi:"triggers,optional" provider:"replaceOnChanges"`
	Source     AssetOrArchive `pulumi:"source"`
	RemotePath string         `pulumi:"remotePath"`
}

// AssetOrArchive stands for an asset or archive input. The provider validates the property value
// itself (upstream's Check does too, with its own messages), so the mapper only sees an empty object.
type AssetOrArchive struct{}

// CopyFileInputs are the inputs of the deprecated command:remote:CopyFile.
type CopyFileInputs struct {
	Connection *Connection `pulumi:"connection" provider:"secret"`
	Triggers   *[]any      `pulumi:"triggers,optional"`
	LocalPath  string      `pulumi:"localPath"`
	RemotePath string      `pulumi:"remotePath"`
}

// CommandOutputs is a Command's state: its inputs, stdout and stderr. Update and Delete decode the
// state into it first (a state without stdout or stderr fails, as upstream's does).
type CommandOutputs struct {
	CommandInputs
	Stdout string `pulumi:"stdout"`
	Stderr string `pulumi:"stderr"`
}

// CopyToRemoteOutputs is a CopyToRemote's state: its inputs.
type CopyToRemoteOutputs struct {
	CopyToRemoteInputs
}
