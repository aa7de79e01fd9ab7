/**
 * Which of its parent's failing tasks a new node's edit is aimed at: the tasks whose latest
 * graded run up the node's first-parent lineage failed with a coverage spectrum naming a file
 * the edit changed. Recorded as the node's Evogit-Targets; the scorer runs them first, so an
 * edit of one module is graded by the tests that exercise it before any other. Pure.
 */
import type { ArchiveSnapshot } from '../archive/types.js';

export function targetTasks(snapshot: ArchiveSnapshot, parent: string, changedFiles: readonly string[]): string[] {
  if (changedFiles.length === 0) return [];
  const byId = new Map(snapshot.nodes.map((n) => [n.id, n]));
  const decided = new Set<string>();
  const targets: string[] = [];
  for (let id: string | undefined = parent, steps = 0; id !== undefined && steps < 10_000; steps++) {
    const latest = new Map<string, NonNullable<ReturnType<typeof snapshot.evaluations.get>>[number]>();
    for (const e of snapshot.evaluations.get(id) ?? []) if (e.outcome !== 'error' && !e.tampered) latest.set(e.task, e);
    for (const [task, e] of latest) {
      if (decided.has(task)) continue;
      decided.add(task);
      if (e.outcome === 'fail' && e.spectrum && changedFiles.some((f) => Object.hasOwn(e.spectrum!.lines, f))) targets.push(task);
    }
    id = byId.get(id)?.parents[0];
  }
  return targets.sort();
}
