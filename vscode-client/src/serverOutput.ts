// Log levels for the sidecar's stderr lines. The sidecar logs each of its own records twice: to
// stderr and as window/logMessage, which the language client already shows. Left alone, the client
// would print every stderr line again, as an error. Here those copies drop to debug, while anything
// else on stderr (pygls's warnings, a traceback from a crash before LSP is up) keeps its weight.

export type OutputLevel = "debug" | "info" | "warn" | "error";

// Python logging's "%(asctime)s %(levelname)s %(name)s: %(message)s".
const RECORD = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR|CRITICAL) ([\w.]+): /;
const SIDECAR_LOGGER = /^cline_bridge(\.|$)/;

const levels: Record<string, OutputLevel> = {
  DEBUG: "debug",
  INFO: "info",
  WARNING: "warn",
  ERROR: "error",
  CRITICAL: "error",
};

/** Returns a classifier for one stderr stream: lines after a record header (tracebacks) share its level. */
export function stderrClassifier(): (line: string) => OutputLevel {
  let previous: OutputLevel = "error";
  return (line) => {
    const match = RECORD.exec(line);
    if (match) {
      const [, level = "ERROR", logger = ""] = match;
      previous = SIDECAR_LOGGER.test(logger) ? "debug" : (levels[level] ?? "error");
    }
    return previous;
  };
}
