/** Reading what the page carries: gzipped, base64-encoded JSON in inert script elements. */
import type { ReportData } from '../html/data.js';

/** base64 → bytes in a plain loop (an order of magnitude quicker than Uint8Array.from with a callback). */
function base64Bytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function inflate(id: string): Promise<string> {
  const text = document.getElementById(id)?.textContent;
  if (text === undefined || text === null) throw new Error(`the page has no #${id}`);
  const stream = new Blob([base64Bytes(text.trim())]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

export async function readData(): Promise<ReportData> {
  const json = await inflate('evogit-data');
  performance.mark('evogit:inflated');
  const data = JSON.parse(json) as ReportData;
  performance.mark('evogit:parsed');
  return data;
}

/** Log tails, inflated a chunk at a time when a log is first opened. */
export class LogStore {
  private readonly chunks = new Map<number, Promise<(string | null)[][]>>();

  constructor(private readonly chunk: number) {}

  async of(node: number, evaluation: number): Promise<string | null> {
    const k = Math.floor(node / this.chunk);
    let loading = this.chunks.get(k);
    if (!loading) {
      loading = inflate(`evogit-logs-${k}`).then((json) => JSON.parse(json) as (string | null)[][]);
      this.chunks.set(k, loading);
    }
    return (await loading)[node - k * this.chunk]?.[evaluation] ?? null;
  }
}
