/**
 * One `npm run typecheck` worker process (forked by scripts/typecheck.ts):
 * type-checks the projects it is sent, one at a time, as `tsc -p <project>
 * --incremental --tsBuildInfoFile <file>` would (the same program, the same
 * diagnostics, the same build info), but through the TypeScript API in one
 * long-lived process: TypeScript is loaded and warmed up once rather than
 * per project, and a file's parsed and bound syntax tree is shared between
 * the projects whose compiler options allow it (the criterion the language
 * service uses across an editor's projects), so lib.d.ts, the Workers and
 * Node types and the shared sources are parsed once per worker.
 *
 * Protocol (IPC): receives `{ project, buildInfo, pretty }` messages (root-relative
 * tsconfig path, build info file), answers each with a {@link CheckResult};
 * exits when the channel closes.
 */
import path from "node:path";
import ts from "typescript";

/** A project to check. */
export interface CheckRequest {
  project: string;
  buildInfo: string;
  pretty: boolean;
}

/** What one project's check found. */
export interface CheckResult {
  project: string;
  ok: boolean;
  ms: number;
  /** The diagnostics, formatted as tsc prints them. */
  output: string;
}

const root = process.cwd();
const registry = ts.createDocumentRegistry();
/** Parsed (and, once a program has used them, bound) files, by compiler-settings key, name and parse options. */
const sourceFiles = new Map<string, ts.SourceFile>();
const formatHost: ts.FormatDiagnosticsHost = {
  getCurrentDirectory: () => root,
  getCanonicalFileName: (f) => f,
  getNewLine: () => "\n",
};

/** A compiler host that reads each file at most once per compatible settings key. */
function sharingHost(options: ts.CompilerOptions): ts.CompilerHost {
  const host = ts.createIncrementalCompilerHost(options);
  const key = registry.getKeyForCompilationSettings(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreateNewSourceFile) => {
    const parse =
      typeof languageVersion === "object"
        ? `${languageVersion.languageVersion}:${languageVersion.impliedNodeFormat}`
        : String(languageVersion);
    const id = `${key}|${parse}|${fileName}`;
    const cached = shouldCreateNewSourceFile ? undefined : sourceFiles.get(id);
    if (cached) return cached;
    const file = read(fileName, languageVersion, onError, shouldCreateNewSourceFile);
    if (file) sourceFiles.set(id, file);
    return file;
  };
  return host;
}

function check({ project, buildInfo, pretty }: CheckRequest): CheckResult {
  const started = performance.now();
  const parseHost: ts.ParseConfigFileHost = { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined };
  const config = ts.getParsedCommandLineOfConfigFile(
    path.resolve(root, project),
    { incremental: true, tsBuildInfoFile: path.resolve(root, buildInfo) },
    parseHost,
  );
  let diagnostics: readonly ts.Diagnostic[];
  if (!config) {
    diagnostics = [
      {
        category: ts.DiagnosticCategory.Error,
        code: 5083,
        file: undefined,
        start: undefined,
        length: undefined,
        messageText: `Cannot read file '${project}'.`,
      },
    ];
  } else {
    const program = ts.createIncrementalProgram({
      rootNames: config.fileNames,
      options: config.options,
      projectReferences: config.projectReferences,
      configFileParsingDiagnostics: ts.getConfigFileParsingDiagnostics(config),
      host: sharingHost(config.options),
    });
    // As tsc: configuration, options, global, syntactic, then semantic diagnostics; then the build info is written.
    diagnostics = [
      ...program.getConfigFileParsingDiagnostics(),
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...program.getSyntacticDiagnostics(),
    ];
    if (diagnostics.length === 0) diagnostics = program.getSemanticDiagnostics();
    diagnostics = [...diagnostics, ...program.emit().diagnostics];
  }
  const errors = diagnostics.filter((d) => d.category === ts.DiagnosticCategory.Error);
  const output = pretty
    ? ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost)
    : ts.formatDiagnostics(diagnostics, formatHost);
  return { project, ok: errors.length === 0, ms: performance.now() - started, output: output.trim() };
}

process.on("message", (request: CheckRequest) => {
  let result: CheckResult;
  try {
    result = check(request);
  } catch (error) {
    result = {
      project: request.project,
      ok: false,
      ms: 0,
      output: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  process.send?.(result);
});
process.on("disconnect", () => process.exit(0));
