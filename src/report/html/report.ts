/** `evogit report`: the archive as one HTML file, written once or kept up to date during a run. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Archive } from '../../archive/index.js';
import { loadConfig } from '../../config/index.js';
import { EvogitError, errorMessage } from '../../errors/index.js';
import { ReportSource } from './collect.js';
import { reportHtml, viewerAssets, writeAtomically } from './page.js';

export interface ReportResult {
  file: string;
  url: string;
  bytes: number;
  nodes: number;
  evaluations: number;
  /** Time to read the archive and write the file. */
  ms: number;
}

export async function openReportSource(repoDir: string): Promise<ReportSource> {
  const config = await loadConfig(repoDir);
  const archive = await Archive.open({ repoDir, prefix: config.branchPrefix });
  if (!(await archive.root())) throw new EvogitError('E_NOT_INITIALISED', 'this repository has no evogit root', 'Run `evogit init` first.');
  return new ReportSource(archive, config);
}

export async function writeReport(source: ReportSource, file: string): Promise<ReportResult> {
  const started = performance.now();
  const [data, assets] = await Promise.all([source.collect(), viewerAssets()]);
  const html = reportHtml(data, assets);
  try {
    await writeAtomically(file, html);
  } catch (e) {
    if (!(e as NodeJS.ErrnoException).code) throw e;
    throw new EvogitError('E_REPORT_OUT', `cannot write ${file}: ${errorMessage(e)}`, 'Choose a file in a directory you can write to: --out FILE.', { cause: e });
  }
  return {
    file,
    url: pathToFileURL(file).href,
    bytes: Buffer.byteLength(html),
    nodes: data.nodes.length,
    evaluations: data.nodes.reduce((s, n) => s + n.evaluations.length, 0),
    ms: Math.round(performance.now() - started),
  };
}

/** Rewrites the report at most every `intervalMs` while something changes; never throws into the run. */
export class LiveReport {
  private dirty = false;
  private last = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private lastError = '';

  private constructor(
    private readonly source: ReportSource,
    readonly file: string,
    private readonly intervalMs: number,
    private readonly onError: (message: string) => void,
  ) {}

  /** Writes the report once now (a bad path or an unbuilt viewer fails here, before the run starts). */
  static async start(opts: { repoDir: string; file: string; intervalMs?: number; onError: (message: string) => void }): Promise<LiveReport> {
    const file = path.resolve(opts.file);
    const source = await openReportSource(opts.repoDir);
    await writeReport(source, file);
    const live = new LiveReport(source, file, opts.intervalMs ?? 3000, opts.onError);
    live.last = Date.now();
    return live;
  }

  /** Something happened in the archive: rewrite when the interval allows. */
  poke(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, Math.max(0, this.last + this.intervalMs - Date.now()));
  }

  private flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.writing = this.writing.then(async () => {
      try {
        await writeReport(this.source, this.file);
      } catch (e) {
        // The run goes on without its report; say so once per distinct problem.
        const message = `report ${this.file} not updated: ${errorMessage(e)}`;
        if (message !== this.lastError) this.onError(message);
        this.lastError = message;
      } finally {
        this.last = Date.now();
      }
    });
  }

  /** The last rewrite, with everything the run wrote, then release the archive. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dirty = true;
    this.flush();
    await this.writing;
    await this.source.archive.close();
  }
}
