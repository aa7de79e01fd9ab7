import { renderStatus, status } from '../../report/index.js';
import type { CommandOutput, GlobalArgs } from '../context.js';

export async function statusCommand(a: GlobalArgs & Record<string, unknown>): Promise<CommandOutput> {
  const result = await status({ repoDir: a.C });
  return { data: result, text: renderStatus(result) };
}
