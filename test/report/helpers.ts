/** Reading a report file back in Node: the same decoding the viewer does, for assertions. */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { ReportData } from '../../src/report/index.js';

function payload(html: string, id: string): unknown {
  const m = new RegExp(`<script type="application/gzip\\+base64" id="${id}">([^<]*)</script>`).exec(html);
  if (!m) throw new Error(`no #${id} in the report`);
  return JSON.parse(gunzipSync(Buffer.from(m[1]!, 'base64')).toString('utf8'));
}

/** The report's data, with each evaluation's log tail put back from its chunk. */
export async function readReport(file: string): Promise<ReportData> {
  const html = await readFile(file, 'utf8');
  const data = payload(html, 'evogit-data') as ReportData;
  const chunk = data.logChunk!;
  data.nodes.forEach((n, i) => {
    const logs = (payload(html, `evogit-logs-${Math.floor(i / chunk)}`) as (string | null)[][])[i % chunk]!;
    n.evaluations.forEach((e, k) => {
      if (logs[k] !== null && logs[k] !== undefined) e.log = logs[k]!;
    });
  });
  return data;
}
