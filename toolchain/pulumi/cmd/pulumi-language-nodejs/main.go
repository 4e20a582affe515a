// Command pulumi-language-nodejs is the Node.js language host the mailplane
// toolchain installs beside the Pulumi CLI.
//
// Upstream's host lives in its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3) that is
// never tagged, and the module proxy these machines reach does not serve any
// pseudo-version of it. This host implements the same LanguageRuntime gRPC
// contract with Pulumi's own Go SDK (sdk/v3, served): the engine talks to it
// exactly as it talks to upstream's, and it runs programs the same way — by
// starting `node @pulumi/pulumi/cmd/run` with the engine's monitor address,
// stack config and program directory — and policy packs (`--policy-pack`)
// through `@pulumi/pulumi/cmd/run-policy-pack`. Only what mailplane's programs
// and policy pack use is implemented; any other RPC answers UNIMPLEMENTED,
// which the engine reports.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// exitedAfterUserActionableMessage is the exit code @pulumi/pulumi's run
// script uses when it already printed an error the user can act on; the
// engine should then stop without adding its own message.
const exitedAfterUserActionableMessage = 32

func main() {
	engineAddress, tracing := parseArgs(os.Args[1:])
	host := &languageHost{engineAddress: engineAddress, tracing: tracing, running: map[*exec.Cmd]struct{}{}}

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
	// The engine reads the port from our first line of output.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: gRPC server stopped: %v\n", err)
		os.Exit(1)
	}
}

// parseArgs accepts what the engine passes to every plugin
// (sdk/go/common/resource/plugin.buildPluginArguments): optional
// --logtostderr, -v=N and --tracing <endpoint>, then the engine address last.
func parseArgs(args []string) (engineAddress, tracing string) {
	for i := 0; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--tracing" || arg == "-tracing":
			if i+1 < len(args) {
				tracing = args[i+1]
				i++
			}
		case strings.HasPrefix(arg, "-"):
			// --logtostderr, -v=N, --root=…: logging flags we do not need.
		default:
			engineAddress = arg
		}
	}
	return engineAddress, tracing
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	tracing       string

	mu      sync.Mutex
	running map[*exec.Cmd]struct{}
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPlugins and GetRequiredPackages report no plugins: mailplane's
// resources are dynamic, served by pulumi-resource-pulumi-nodejs, which ships
// beside the CLI, so nothing must be downloaded.
func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) About(context.Context, *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("running node --version: %w", err)
	}
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

// GetProgramDependencies lists the program's direct dependencies from its
// package.json (what `pulumi about` shows).
func (h *languageHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	raw, err := os.ReadFile(filepath.Join(req.GetInfo().GetProgramDirectory(), "package.json"))
	if err != nil {
		return nil, fmt.Errorf("reading package.json: %w", err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return nil, fmt.Errorf("parsing package.json: %w", err)
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for name, ver := range pkg.Dependencies {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: name, Version: ver})
	}
	return resp, nil
}

// InstallDependencies runs `npm install` in the program directory (what
// `pulumi install` asks for), streaming npm's output to the engine.
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	cmd := exec.CommandContext(server.Context(), "npm", "install", "--no-audit", "--no-fund")
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s: %w", cmd.Dir, err)
	}
	return closer.Close()
}

// Cancel stops running programs; the engine calls it on Ctrl-C.
func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		_ = cmd.Process.Signal(os.Interrupt)
	}
	return &emptypb.Empty{}, nil
}

// Run starts the program under node through @pulumi/pulumi's run script, as
// upstream's host does: the same flags, PULUMI_CONFIG and
// PULUMI_CONFIG_SECRET_KEYS, the same exit-code handling.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	programDir := info.GetProgramDirectory()
	if programDir == "" {
		programDir = req.GetPwd()
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}
	runPath, err := resolveRunScript(node, programDir)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	configJSON, err := runConfig(req.GetConfig())
	if err != nil {
		return &pulumirpc.RunResponse{Error: "serialising stack configuration: " + err.Error()}, nil
	}
	secretKeys, err := json.Marshal(nonNil(req.GetConfigSecretKeys()))
	if err != nil {
		return &pulumirpc.RunResponse{Error: "serialising secret keys: " + err.Error()}, nil
	}
	options := info.GetOptions().AsMap()

	args := nodeArgs(options)
	args = append(args, runPath)
	flag := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flag("monitor", req.GetMonitorAddress())
	flag("engine", h.engineAddress)
	flag("organization", req.GetOrganization())
	flag("project", req.GetProject())
	flag("root-directory", info.GetRootDirectory())
	flag("stack", req.GetStack())
	flag("pwd", programDir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flag("parallel", strconv.Itoa(int(req.GetParallel())))
	flag("tracing", h.tracing)
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	env := append(os.Environ(),
		"PULUMI_CONFIG="+configJSON,
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
	)
	// Like upstream, TypeScript via ts-node is on unless the project turns it
	// off (mailplane's projects do: Node strips types itself).
	if ts, ok := options["typescript"].(bool); !ok || ts {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if tsconfig, ok := options["tsconfig"].(string); ok && tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+tsconfig)
	}

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = programDir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: "could not start node: " + err.Error()}, nil
	}
	h.mu.Lock()
	h.running[cmd] = struct{}{}
	h.mu.Unlock()
	err = cmd.Wait()
	h.mu.Lock()
	delete(h.running, cmd)
	h.mu.Unlock()

	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitedAfterUserActionableMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: "Problem executing program (could not run language executor): " + err.Error()}, nil
	}
}

// policyPackBootstrap runs a policy pack through run-policy-pack's run()
// with TypeScript off: its index script always registers ts-node, while
// mailplane's packs are .ts files Node strips itself (PulumiPolicy.yaml:
// `runtime: { name: nodejs, options: { typescript: false } }`).
// Arguments: the run.js path, then the pack directory.
const policyPackBootstrap = `const [runScript, program] = process.argv.slice(1);
require(runScript).run({ argv: { _: [program] }, programStarted() {}, reportLoggedError() {}, typeScript: false });`

// RunPlugin starts a plugin written for Node.js. The engine asks for it to run
// a policy pack directory (kind "analyzer"), as upstream's host does with
// @pulumi/pulumi/cmd/run-policy-pack; the pack prints its gRPC port on
// standard output, which is streamed back to the engine.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented, "this Node.js host runs policy packs only, not %q plugins", req.GetKind())
	}
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	info := req.GetInfo()
	packDir := info.GetProgramDirectory()
	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	options := info.GetOptions().AsMap()
	args := nodeArgs(options)
	if ts, ok := options["typescript"].(bool); ok && !ts {
		runScript, err := resolveModule(node, packDir, "@pulumi/pulumi/cmd/run-policy-pack/run")
		if err != nil {
			return err
		}
		args = append(args, "-e", policyPackBootstrap, runScript, packDir)
	} else {
		runScript, err := resolveModule(node, packDir, "@pulumi/pulumi/cmd/run-policy-pack")
		if err != nil {
			return err
		}
		// run-policy-pack takes <engine-address> <program>.
		args = append(args, runScript, h.engineAddress, packDir)
	}

	cmd := exec.CommandContext(server.Context(), node, args...)
	cmd.Dir = packDir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	// exec copies stdout and stderr on two goroutines; a gRPC stream takes one Send at a time.
	var sendMu sync.Mutex
	cmd.Stdout = &lockedWriter{mu: &sendMu, w: stdout}
	cmd.Stderr = &lockedWriter{mu: &sendMu, w: stderr}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start node: %w", err)
	}
	h.mu.Lock()
	h.running[cmd] = struct{}{}
	h.mu.Unlock()
	err = cmd.Wait()
	h.mu.Lock()
	delete(h.running, cmd)
	h.mu.Unlock()

	code := int32(0)
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = int32(exitErr.ExitCode())
	default:
		return fmt.Errorf("running the policy pack in %s: %w", packDir, err)
	}
	sendMu.Lock()
	defer sendMu.Unlock()
	return server.Send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: code}})
}

// lockedWriter serialises writes that share one gRPC stream.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// resolveModule finds a module of @pulumi/pulumi the way Node would from dir.
func resolveModule(node, dir, module string) (string, error) {
	cmd := exec.Command(node, "-e", `process.stdout.write(require.resolve(process.argv[1], {paths: [process.cwd()]}))`, module)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("it looks like the policy pack's dependencies are not installed (%s not found from %s); run npm install", module, dir)
	}
	return string(out), nil
}

// resolveRunScript finds @pulumi/pulumi's run script the way Node would from
// the program directory, so hoisted and workspace installs work.
func resolveRunScript(node, programDir string) (string, error) {
	if override := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); override != "" {
		return override, nil
	}
	cmd := exec.Command(node, "-e", `process.stdout.write(require.resolve("@pulumi/pulumi/cmd/run", {paths: [process.cwd()]}))`)
	cmd.Dir = programDir
	out, err := cmd.Output()
	if err != nil {
		return "", errors.New("It looks like the Pulumi SDK has not been installed. Have you run npm install?")
	}
	return string(out), nil
}

// runConfig presents config keys as <namespace>:config:<name>, the form the
// Node SDK reads from PULUMI_CONFIG.
func runConfig(cfg map[string]string) (string, error) {
	out := make(map[string]string, len(cfg))
	for k, v := range cfg {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", err
		}
		out[key.Namespace()+":config:"+key.Name()] = v
	}
	raw, err := json.Marshal(out)
	return string(raw), err
}

// nodeArgs returns the project's runtime option `nodeargs`, split on spaces.
func nodeArgs(options map[string]any) []string {
	raw, _ := options["nodeargs"].(string)
	return strings.Fields(raw)
}

func nonNil(keys []string) []string {
	if keys == nil {
		return []string{}
	}
	return keys
}
