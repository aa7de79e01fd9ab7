/**
 * Source locations a run's log names: Python traceback frames, node stack frames, `path:line:`
 * lines. Pure: log text in, file:line references out, matched to repository files by suffix.
 */

export interface LogLocation {
  /** The path as the log spells it (absolute in a sandbox, relative, or a file:// URL). */
  path: string;
  line: number;
  /** The source line quoted beside the frame (Python tracebacks), when present. */
  code?: string;
}

const PY_FRAME = /File "([^"]+)", line (\d+)[^\n]*\n(?:[ \t]+([^\n]*)\n?)?/g;
const GENERIC_FRAME = /((?:file:\/\/)?[^\s()'"`<>,:]*\.(?:js|mjs|cjs|jsx|ts|mts|cts|tsx|py)):(\d+)(?::\d+)?/g;

/** Every file:line reference of a log, each once, in the order first seen. */
export function parseLogLocations(log: string): LogLocation[] {
  const out: LogLocation[] = [];
  const seen = new Set<string>();
  const add = (location: LogLocation): void => {
    const key = `${location.path}:${location.line}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(location);
  };
  for (const m of log.matchAll(PY_FRAME)) {
    const code = m[3]?.trim();
    add({ path: m[1] as string, line: Number(m[2]), ...(code && !code.startsWith('File "') ? { code } : {}) });
  }
  for (const m of log.matchAll(GENERIC_FRAME)) {
    let file = m[1] as string;
    if (file.startsWith('file://')) {
      try {
        file = decodeURIComponent(new URL(file).pathname);
      } catch (error) {
        // Not a well-formed URL: keep the text after the scheme and let suffix matching decide.
        file = file.slice('file://'.length) || String(error);
      }
    }
    add({ path: file, line: Number(m[2]) });
  }
  return out;
}

/** The repository file a logged path names: exact, else the longest path it ends with. */
export function resolveLogPath(logged: string, files: Iterable<string>): string | null {
  const normal = logged.replace(/\\/g, '/');
  let best: string | null = null;
  for (const file of files) {
    if (normal === file || normal.endsWith(`/${file}`) || normal === `./${file}`) {
      if (!best || file.length > best.length) best = file;
    }
  }
  return best;
}
