/**
 * trust: signed — other writers' nodes and notes count only when their commits carry a valid
 * signature (SSH or GPG, verified by git itself) from a key evogit.yml lists for that writer.
 * Writers that wrote on this machine (.git/evogit/writers) are this machine's own and count
 * unsigned. Unsigned data of others is still shown (status lists the nodes, marked), never
 * counted. SSH keys go to an allowed-signers file git checks against; a GPG key is named by its
 * fingerprint (it must be in the keyring), and git's %GF/%GP is compared with it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { unlessMissing } from '../errors/index.js';
import type { Git } from '../git/index.js';

export interface SignedTrust {
  mode?: 'all' | 'signed';
  writers?: Record<string, { keys?: string[] }>;
}

/** What git says of one commit's signature: the principal (SSH) or key fingerprints (GPG) of a good one. */
interface Sig {
  good: boolean;
  principal: string;
  fingerprints: string[];
}

const FORMAT = '%H%x00%G?%x00%GS%x00%GF%x00%GP%x00';

/** `git log --format=FORMAT` output → commit → signature (pure). */
export function parseSignatures(out: string): Map<string, Sig> {
  const parts = out.split('\0');
  const sigs = new Map<string, Sig>();
  for (let i = 0; i + 5 <= parts.length; i += 5) {
    const sha = (parts[i] as string).trim();
    if (!sha) continue;
    const status = parts[i + 1] as string;
    sigs.set(sha, { good: status === 'G' || status === 'U', principal: parts[i + 2] as string, fingerprints: [parts[i + 3] as string, parts[i + 4] as string].filter(Boolean).map((f) => f.toUpperCase()) });
  }
  return sigs;
}

export class SignatureCheck {
  private readonly sigs = new Map<string, Sig>();
  /** Per writer: the notes tip verified last, and the first commit on it not signed by the writer (null: all good). */
  private readonly notes = new Map<string, { tip: string; bad: string | null }>();
  private readonly signersFile: string;
  private local = new Set<string>();

  constructor(
    private readonly git: Git,
    private readonly stateDir: string,
    private readonly trust: SignedTrust,
  ) {
    this.signersFile = join(stateDir, 'allowed-signers');
  }

  get enabled(): boolean {
    return this.trust.mode === 'signed';
  }

  /** The allowed-signers file for git (SSH keys of the listed writers), rewritten when the config changed. */
  private writeSigners(): void {
    const lines: string[] = [];
    for (const [writer, w] of Object.entries(this.trust.writers ?? {})) for (const k of w.keys ?? []) if (/^(ssh-|ecdsa-|sk-)/.test(k.trim())) lines.push(`${writer} ${k.trim()}`);
    const text = lines.map((l) => `${l}\n`).join('');
    let old = '';
    try {
      old = readFileSync(this.signersFile, 'utf8');
    } catch {
      old = '\0';
    }
    if (old === text) return;
    mkdirSync(this.stateDir, { recursive: true });
    writeFileSync(this.signersFile, text);
  }

  private async log(args: string[], input?: string): Promise<Map<string, Sig>> {
    const out = await this.git.out(['-c', `gpg.ssh.allowedSignersFile=${this.signersFile}`, 'log', `--format=${FORMAT}`, ...args], input === undefined ? {} : { input });
    return parseSignatures(out);
  }

  private signedBy(sig: Sig | undefined, writer: string): boolean {
    if (!sig?.good) return false;
    if (sig.principal === writer) return true;
    const keys = (this.trust.writers?.[writer]?.keys ?? []).map((k) => k.replace(/\s+/g, '').toUpperCase());
    return sig.fingerprints.some((f) => keys.some((k) => k === f || (k.length >= 16 && f.endsWith(k))));
  }

  /** Check the commits not checked yet (nodes, and each notes ref's new commits); returns the node ids whose verdict is new. */
  async refresh(nodes: { id: string; writer: string }[], notesTips: Map<string, string>): Promise<string[]> {
    if (!this.enabled) return [];
    this.writeSigners();
    this.local = new Set(readLines(join(this.stateDir, 'writers')));
    const fresh = nodes.filter((n) => !this.sigs.has(n.id) && !this.local.has(n.writer)).map((n) => n.id);
    if (fresh.length) for (const [sha, sig] of await this.log(['--no-walk=unsorted', '--stdin'], fresh.join('\n') + '\n')) this.sigs.set(sha, sig);
    for (const [writer, tip] of notesTips) {
      const known = this.notes.get(writer);
      if (this.local.has(writer) || known?.tip === tip) continue;
      if (known?.bad) {
        this.notes.set(writer, { tip, bad: known.bad });
        continue;
      }
      const range = known ? [tip, `^${known.tip}`] : [tip];
      const sigs = await this.log(range);
      let bad: string | null = null;
      for (const [sha, sig] of sigs) if (!this.signedBy(sig, writer)) bad = sha;
      this.notes.set(writer, { tip, bad });
    }
    return fresh;
  }

  /** Why a node of `writer` does not count, or null. */
  nodeProblem(id: string, writer: string): string | null {
    if (!this.enabled || this.local.has(writer)) return null;
    return this.signedBy(this.sigs.get(id), writer) ? null : `not signed by a key trust.writers lists for ${writer || 'its writer'}`;
  }

  /** Why `writer`'s notes do not count, or null. */
  notesProblem(writer: string): string | null {
    if (!this.enabled || this.local.has(writer)) return null;
    const n = this.notes.get(writer);
    if (!n) return null;
    return n.bad ? `notes commit ${n.bad.slice(0, 12)} is not signed by a key trust.writers lists for ${writer}` : null;
  }
}

/** A state file's non-empty lines; none when it does not exist. */
function readLines(file: string): string[] {
  return (unlessMissing(() => readFileSync(file, 'utf8')) ?? '').split('\n').filter(Boolean);
}
