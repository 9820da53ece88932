// Command pulumi-language-nodejs is this project's Node.js language host for
// the Pulumi CLI, so that directory programs (`pulumi up` in a folder whose
// Pulumi.yaml says `runtime: nodejs`) run here. The Go module proxy does not
// serve Pulumi's own language host, so this one speaks the LanguageRuntime
// protocol of the SDK version the CLI is built from and hands the program to
// the `cmd/run` entry point that every @pulumi/pulumi npm package ships.
//
// The engine starts it with its own address as the only argument; it prints
// the port of its gRPC server on stdout and serves until it is killed.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is set at build time (-ldflags "-X main.version=v3.x.y") to the
// Pulumi release whose protocol this host speaks.
var version = "v0.0.0-dev"

// exitBail is the exit code @pulumi/pulumi's cmd/run uses after it has shown
// the user an actionable message: the engine should not add its own.
const exitBail = 32

func main() {
	flags := flag.NewFlagSet("pulumi-language-nodejs", flag.ContinueOnError)
	// Older engines passed runtime options as flags; newer ones send them in
	// each request's ProgramInfo. Both are accepted, the request wins.
	tracing := flags.String("tracing", "", "Zipkin-compatible tracing endpoint")
	flags.String("root", "", "project root directory (unused)")
	typescript := flags.Bool("typescript", true, "run TypeScript programs through ts-node")
	tsconfig := flags.String("tsconfig", "", "path to tsconfig.json")
	nodeargs := flags.String("nodeargs", "", "extra arguments for node")
	flags.String("packagemanager", "", "package manager (unused)")
	if err := flags.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}

	host := &languageHost{
		tracing:  *tracing,
		defaults: runtimeOptions{typescript: *typescript, tsconfig: *tsconfig, nodeargs: *nodeargs},
		running:  map[*exec.Cmd]struct{}{},
	}
	if flags.NArg() > 0 {
		host.engineAddress = flags.Arg(flags.NArg() - 1)
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: could not start the gRPC server: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

type runtimeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   string
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	tracing  string
	defaults runtimeOptions

	mu            sync.Mutex
	engineAddress string
	running       map[*exec.Cmd]struct{}
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGINT)
		}
	}
	return &emptypb.Empty{}, nil
}

// options merges a request's runtime options (Pulumi.yaml `runtime.options`)
// over the flags the host was started with.
func (h *languageHost) options(info *pulumirpc.ProgramInfo) runtimeOptions {
	opts := h.defaults
	fields := info.GetOptions().GetFields()
	if v, ok := fields["typescript"]; ok {
		if b, isBool := v.GetKind().(*structpb.Value_BoolValue); isBool {
			opts.typescript = b.BoolValue
		}
	}
	if v, ok := fields["tsconfig"]; ok && v.GetStringValue() != "" {
		opts.tsconfig = v.GetStringValue()
	}
	if v, ok := fields["nodeargs"]; ok && v.GetStringValue() != "" {
		opts.nodeargs = v.GetStringValue()
	}
	return opts
}

// programDir is where the program's package.json and node_modules are looked up.
func programDir(info *pulumirpc.ProgramInfo, fallbacks ...string) string {
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	for _, d := range fallbacks {
		if d != "" {
			return d
		}
	}
	wd, _ := os.Getwd()
	return wd
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "could not find node on the PATH: %v", err)
	}
	dir := programDir(req.GetInfo(), req.GetPwd())
	runPath, err := resolveRunScript(ctx, nodeBin, dir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	opts := h.options(req.GetInfo())

	h.mu.Lock()
	engine := h.engineAddress
	h.mu.Unlock()

	args := strings.Fields(opts.nodeargs)
	args = append(args, runPath)
	flagArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagArg("monitor", req.GetMonitorAddress())
	flagArg("engine", engine)
	flagArg("organization", req.GetOrganization())
	flagArg("project", req.GetProject())
	flagArg("root-directory", req.GetInfo().GetRootDirectory())
	flagArg("stack", req.GetStack())
	flagArg("pwd", req.GetPwd())
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	if req.GetParallel() > 0 {
		flagArg("parallel", fmt.Sprint(req.GetParallel()))
	}
	flagArg("tracing", h.tracing)
	args = append(args, entryPoint(req))
	args = append(args, req.GetArgs()...)

	config := req.GetConfig()
	if config == nil {
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON),
	)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	// #nosec G204 -- running the user's program is the point.
	cmd := exec.Command(nodeBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not start node: %v", err)}, nil
	}
	h.mu.Lock()
	h.running[cmd] = struct{}{}
	h.mu.Unlock()
	err = cmd.Wait()
	h.mu.Lock()
	delete(h.running, cmd)
	h.mu.Unlock()
	// Node writes to pipes asynchronously; make sure whatever it printed last
	// is passed on before the engine reports the result.
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()

	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		switch code := exitErr.ExitCode(); code {
		case exitBail:
			return &pulumirpc.RunResponse{Bail: true}, nil
		case -1:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited unexpectedly: %v", err)}, nil
		default:
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", code)}, nil
		}
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program: %v", err)}, nil
}

// entryPoint is the program argument for cmd/run: Pulumi.yaml's `main` when
// set, else the program directory, which node resolves through package.json.
func entryPoint(req *pulumirpc.RunRequest) string {
	info := req.GetInfo()
	if ep := info.GetEntryPoint(); ep != "" && ep != "." {
		if filepath.IsAbs(ep) {
			return ep
		}
		return filepath.Join(programDir(info, req.GetPwd()), ep)
	}
	if p := req.GetProgram(); p != "" {
		return p
	}
	if d := info.GetProgramDirectory(); d != "" {
		return d
	}
	return "."
}

// resolveRunScript finds @pulumi/pulumi/cmd/run the way the program itself
// would resolve it: from the program directory, honouring NODE_PATH.
func resolveRunScript(ctx context.Context, nodeBin, dir string) (string, error) {
	if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		return p, nil
	}
	// #nosec G204 -- fixed script.
	cmd := exec.CommandContext(ctx, nodeBin, "-e",
		`process.stdout.write(require.resolve("@pulumi/pulumi/cmd/run", { paths: [process.cwd(), ...module.paths] }))`)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || len(out) == 0 {
		return "", fmt.Errorf("could not find @pulumi/pulumi from %s: it looks like the Pulumi SDK has not "+
			"been installed; run npm install there (%v %s)", dir, err, strings.TrimSpace(stderr.String()))
	}
	return filepath.Dir(string(out)), nil
}

// packageJSON holds the parts of a package.json this host reads.
type packageJSON struct {
	Name            string            `json:"name"`
	Version         string            `json:"version"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
	Pulumi          struct {
		Resource         bool   `json:"resource"`
		Name             string `json:"name"`
		Version          string `json:"version"`
		Server           string `json:"server"`
		Parameterization *struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Value   []byte `json:"value"`
		} `json:"parameterization"`
	} `json:"pulumi"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

// requiredPackages lists the resource plugins that the npm packages visible
// from dir declare (`"pulumi": { "resource": true }` in their package.json).
func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	seen := map[string]bool{}
	visited := map[string]bool{}
	var out []*pulumirpc.PackageDependency

	var scanPackage func(pkgDir string) error
	var scanNodeModules func(nm string) error
	scanNodeModules = func(nm string) error {
		real, err := filepath.EvalSymlinks(nm)
		if err != nil || visited[real] {
			return nil
		}
		visited[real] = true
		entries, err := os.ReadDir(real)
		if err != nil {
			return nil
		}
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			full := filepath.Join(real, name)
			if strings.HasPrefix(name, "@") {
				scoped, err := os.ReadDir(full)
				if err != nil {
					continue
				}
				for _, s := range scoped {
					if err := scanPackage(filepath.Join(full, s.Name())); err != nil {
						return err
					}
				}
				continue
			}
			if err := scanPackage(full); err != nil {
				return err
			}
		}
		return nil
	}
	scanPackage = func(pkgDir string) error {
		p, err := readPackageJSON(filepath.Join(pkgDir, "package.json"))
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		if err != nil {
			return err
		}
		if p.Pulumi.Resource {
			dep := pluginDependency(p)
			key := dep.Name + "@" + dep.Version
			if dep.Parameterization != nil {
				key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
			}
			if !seen[key] {
				seen[key] = true
				out = append(out, dep)
			}
		}
		return scanNodeModules(filepath.Join(pkgDir, "node_modules"))
	}

	for d := dir; ; {
		if err := scanNodeModules(filepath.Join(d, "node_modules")); err != nil {
			return nil, err
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	return out, nil
}

func pluginDependency(p *packageJSON) *pulumirpc.PackageDependency {
	name := p.Pulumi.Name
	if name == "" {
		name = strings.TrimPrefix(p.Name, "@pulumi/")
		name = strings.TrimPrefix(name, "@")
	}
	v := p.Pulumi.Version
	if v == "" {
		v = p.Version
	}
	if v != "" && !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	dep := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: v, Server: p.Pulumi.Server}
	if pz := p.Pulumi.Parameterization; pz != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{
			Name: pz.Name, Version: pz.Version, Value: pz.Value,
		}
	}
	return dep
}

func (h *languageHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	pkgs, err := requiredPackages(programDir(req.GetInfo()))
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

func (h *languageHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	pkgs, err := requiredPackages(programDir(req.GetInfo(), req.GetProgram(), req.GetPwd()))
	if err != nil {
		return nil, err
	}
	var plugins []*pulumirpc.PluginDependency
	for _, p := range pkgs {
		if p.Parameterization != nil {
			continue
		}
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Name: p.Name, Kind: p.Kind, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *languageHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "could not find node on the PATH: %v", err)
	}
	// #nosec G204 -- fixed arguments.
	out, err := exec.CommandContext(ctx, nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// GetProgramDependencies reports the program's direct npm dependencies with
// the versions installed where node would find them.
func (h *languageHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetProgram(), req.GetPwd())
	var manifest *packageJSON
	for d := dir; manifest == nil; {
		p, err := readPackageJSON(filepath.Join(d, "package.json"))
		if err == nil {
			manifest, dir = p, d
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return nil, fmt.Errorf("no package.json found at or above %s", dir)
		}
		d = parent
	}
	names := map[string]bool{}
	for n := range manifest.Dependencies {
		names[n] = true
	}
	for n := range manifest.DevDependencies {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	var deps []*pulumirpc.DependencyInfo
	for _, n := range sorted {
		if v := installedVersion(dir, n); v != "" {
			deps = append(deps, &pulumirpc.DependencyInfo{Name: n, Version: v})
		}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func installedVersion(dir, name string) string {
	for d := dir; ; {
		if p, err := readPackageJSON(filepath.Join(d, "node_modules", name, "package.json")); err == nil {
			return p.Version
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// InstallDependencies is deliberately not automatic: this project installs
// its npm packages itself (npm ci), and an `npm install` started by the CLI
// in a program folder whose node_modules is a link would rewrite the linked
// tree.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, _ grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	return status.Errorf(codes.Unimplemented,
		"this pulumi-language-nodejs does not install dependencies: run npm install in %s",
		programDir(req.GetInfo(), req.GetDirectory()))
}

func (h *languageHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
