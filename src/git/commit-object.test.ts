import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Git, LOG_FORMAT, parseCommitObject, parseLog, type RawCommit } from './index.js';

/**
 * parseCommitObject must give, for every commit, exactly what `git log --format=LOG_FORMAT`
 * gives, or null (the caller then asks git): never a different answer. Checked against the
 * real git on hand-picked and generated messages.
 */
describe('parseCommitObject equals git log (a real repository)', () => {
  let dir = '';
  let git: Git;
  let tree = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'evogit-commitobj-'));
    git = new Git(dir);
    await git.run(['init', '-q']);
    tree = (await git.out(['hash-object', '-w', '-t', 'tree', '--stdin'], { input: '' })).trim();
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Write raw commit objects (one hash-object process), read them back both ways. */
  async function compare(raws: string[]): Promise<{ ours: (RawCommit | null)[]; theirs: RawCommit[] }> {
    const files: string[] = [];
    for (const [i, raw] of raws.entries()) {
      const f = join(dir, `c${i}`);
      await writeFile(f, raw);
      files.push(f);
    }
    const ids = (await git.out(['hash-object', '-w', '-t', 'commit', '--stdin-paths'], { input: files.join('\n') + '\n' })).trim().split('\n');
    expect(ids).toHaveLength(raws.length);
    const objects = await git.catFileBytes(ids);
    const logged = new Map(parseLog(await git.out(['-c', 'log.showSignature=false', 'log', '--no-walk=unsorted', '--stdin', `--format=${LOG_FORMAT}`], { input: ids.join('\n') + '\n' })).map((c) => [c.id, c]));
    const ours: (RawCommit | null)[] = [];
    const theirs: RawCommit[] = [];
    for (const id of ids) {
      const mine = parseCommitObject(id, objects.get(id)!.content);
      const log = logged.get(id)!;
      expect(log, id).toBeDefined();
      if (mine !== null) expect(mine, JSON.stringify(objects.get(id)!.content.toString())).toEqual(log);
      ours.push(mine);
      theirs.push(log);
    }
    return { ours, theirs };
  }

  const commit = (message: string, opts: { parents?: string[]; headers?: string[]; time?: number } = {}) =>
    [
      `tree ${tree}`,
      ...(opts.parents ?? []).map((p) => `parent ${p}`),
      `author A U Thor <a@example.com> 1700000000 +0200`,
      `committer C O Mitter <c@example.com> ${opts.time ?? 1700000123} -0130`,
      ...(opts.headers ?? []),
      '',
      message,
    ].join('\n');

  it('takes the shapes evogit and people write, and gives git\'s answer', async () => {
    const evogit = 'mutate: delete statement at src/a.ts:12\n\nEvogit-Writer: a1\nEvogit-Agent: mutate\nEvogit-Operator: mutate\nEvogit-Cost: 0.25\n';
    const messages = [
      evogit,
      'evogit node\n\nEvogit-Writer: a2\nEvogit-Agent: command\nEvogit-Operator: command\nEvogit-Model: gpt-x\n',
      'subject only\n',
      'subject only, no newline',
      '',
      '\n\n\nleading blank lines\n\nEvogit-Writer: w\n',
      'a subject\nthat goes on\non three lines   \n\nbody\n',
      'subject\n\nbody paragraph one\n\nbody two\nEvogit-Writer: mixed-in\n',
      'subject\n\nEvogit-Writer: w1\nEvogit-Writer: w2\n\n\n\n',
      'subject\n\nSigned-off-by: A <a@b>\nprose without a key\nmore prose\nEvogit-Agent: signed\n',
      'subject\n\nprose\nprose\nprose\nprose\nSigned-off-by: A <a@b>\nEvogit-Agent: too-few\n',
      // A quarter of trailers with a git-written one: exactly at the bound, and one line past it.
      'subject\n\nSigned-off-by: A <a@b>\nEvogit-Agent: at-bound\np1\np2\np3\np4\np5\np6\n',
      'subject\n\nSigned-off-by: A <a@b>\nEvogit-Agent: past-bound\np1\np2\np3\np4\np5\np6\np7\n',
      'ünïcödé ✓ subject\n\nnon-ASCII body → ok\n\nEvogit-Writer: ü✓\nEvogit-Model: модель\n',
      'subject\n\nevogit-writer: lower\nEVOGIT-AGENT: upper\nEvogit-Operator :spaced\nEvogit-Cost:0.1\n',
      'subject\n\nEvogit-Writer: a: b: c\nOther-Key: x\n',
      'Evogit-Writer: in-the-title\n',
      'subject\n\nbody\n\nNote: this is a sentence with a colon\n',
      'subject\n\n    indented code in a middle paragraph\n\nEvogit-Writer: w\n',
      'subject\t \n\nEvogit-Writer:   padded   \n',
    ];
    const { ours, theirs } = await compare(messages.map((m) => commit(m, { parents: ['1'.repeat(40), '2'.repeat(40)] })));
    // All of these are in the shape: none may fall back.
    expect(ours.map((c, i) => (c === null ? messages[i] : null)).filter((m) => m !== null)).toEqual([]);
    expect(theirs[0]).toMatchObject({ subject: 'mutate: delete statement at src/a.ts:12', parents: ['1'.repeat(40), '2'.repeat(40)], time: 1700000123 });
    expect(theirs[0]!.trailers).toEqual({ 'Evogit-Writer': 'a1', 'Evogit-Agent': 'mutate', 'Evogit-Operator': 'mutate', 'Evogit-Cost': '0.25' });
  });

  it('returns null outside the shape it knows (git would answer differently or subtly)', async () => {
    const raws = [
      commit('subject\n\nEvogit-Writer: w\n', { headers: ['encoding ISO-8859-1'] }),
      commit('subject\n\nEvogit-Writer: w\n', { headers: ['gpgsig -----BEGIN PGP SIGNATURE-----', ' abc', ' -----END PGP SIGNATURE-----'] }),
      commit('subject\r\n\r\nEvogit-Writer: w\r\n'),
      commit('subject\n\nEvogit-Writer: w\n  continued\n'),
      commit('subject\n\n# comment\nEvogit-Writer: w\n'),
      commit('subject\n\nbody\n---\nEvogit-Writer: w\n'),
      commit('subject\n\nEvogit-Writer: w\n \n'),
    ];
    const { ours } = await compare(raws);
    expect(ours).toEqual(raws.map(() => null));
  });

  it('never disagrees with git on generated messages', async () => {
    const pool = [
      '', '', '', 'Fix the parser', 'A second subject line', 'Evogit-Writer: a1', 'Evogit-Agent: mutate', 'evogit-operator: llm', 'EVOGIT-COST: 0.25',
      'Evogit-Model:gpt', 'Evogit-Model : x', 'Evogit-Writer:', 'Evogit-Writer: a:b', 'Signed-off-by: A <a@b>', '(cherry picked from commit abc)',
      'Note: this is prose', 'This is prose.', 'A B: not a key', '-: dash key', 'Key-With-Dash: v', ':value', 'Key:', '  indented code', '\tTabbed',
      '# comment', '---', 'Conflicts:', 'Évogit-Writer: é', 'Ünïcödé ✓ line', 'trailing space   ', 'Evogit-Writer: w2  ', ' ', 'Evogit-Writer: w\r', '\x0b',
    ];
    const message = fc.tuple(fc.array(fc.constantFrom(...pool), { maxLength: 9 }), fc.constantFrom('', '\n', '\n\n\n')).map(([lines, end]) => lines.join('\n') + end);
    const messages = fc.sample(message, { numRuns: 400, seed: 42 });
    const { ours } = await compare(messages.map((m) => commit(m)));
    // The shape must cover a good share of them, or the fast path would be useless.
    expect(ours.filter((c) => c !== null).length).toBeGreaterThan(60);
  });
});
