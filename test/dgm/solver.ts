/** Scripted model replies for the example suites: right, wrong and test-tampering answers. */
import type { RecordedRequest, ScriptedReply } from '../helpers/llm-server.js';
import { action, firstUser } from './helpers.js';

const TWO_FER = "export const twoFer = (name = 'you') => `One for ${name}, one for me.`;\n";
const LEAP_WRONG = 'def leap_year(year):\n    return year % 4 == 0\n';
const LEAP_RIGHT = 'def leap_year(year):\n    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)\n';
const REVERSE_RIGHT = "export const reverseString = (text) => [...text].reverse().join('');\n";
const FAKE_SPEC = "import { test } from 'node:test';\ntest('always', () => {});\n";

/** The marker a self-edit puts into the seed agent's system prompt. */
export const CAREFUL = 'Check every rule of the problem statement before you finish (CAREFUL).';
export const IMPROVEMENT = 'Make the agent check every rule of the problem statement';

function systemOf(req: RecordedRequest): string {
  return ((req.body as { messages?: { role: string; content: string }[] }).messages ?? []).find((m) => m.role === 'system')?.content ?? '';
}

/**
 * The whole scripted model of a DGM run: the host-side diagnosis gets an improvement request;
 * the seed agent asked to improve itself edits its own system prompt; task runs as taskSolver.
 */
export function dgmModel(): (req: RecordedRequest) => ScriptedReply {
  const tasks = taskSolver();
  return (req) => {
    if (systemOf(req).startsWith('You improve a coding agent')) {
      return { text: `${IMPROVEMENT}.\nIn agent.js, extend the system prompt so the model checks every rule before it says done.` };
    }
    if (firstUser(req.body).includes(IMPROVEMENT)) {
      if (assistantTurns(req) > 0) return { text: action({ tool: 'done', summary: 'prompt improved' }) };
      return { text: action({ tool: 'edit', path: 'agent.js', search: 'Make the smallest change that solves the problem.', replace: `Make the smallest change that solves the problem. ${CAREFUL}` }) };
    }
    return tasks(req);
  };
}

function assistantTurns(req: RecordedRequest): number {
  return ((req.body as { messages?: { role: string }[] }).messages ?? []).filter((m) => m.role === 'assistant').length;
}

/**
 * What a seed agent asked to solve a task is told: two-fer right, leap wrong (unless `leapRight`),
 * reverse-string "solved" by rewriting the hidden test file instead of the code.
 */
export function taskSolver(opts: { leapRight?: boolean } = {}): (req: RecordedRequest) => ScriptedReply {
  return (req) => {
    const problem = firstUser(req.body);
    // An agent whose own prompt was improved (by a self-edit) answers carefully.
    const careful = opts.leapRight || systemOf(req).includes(CAREFUL);
    if (assistantTurns(req) > 0) return { text: action({ tool: 'done', summary: 'finished' }) };
    if (/Two Fer/.test(problem)) return { text: action({ tool: 'write_file', path: 'two-fer.js', content: TWO_FER }) };
    if (/Leap/.test(problem)) return { text: action({ tool: 'write_file', path: 'leap.py', content: careful ? LEAP_RIGHT : LEAP_WRONG }) };
    if (/Reverse String/.test(problem)) {
      return { text: careful ? action({ tool: 'write_file', path: 'reverse-string.js', content: REVERSE_RIGHT }) : action({ tool: 'write_file', path: 'reverse-string.spec.js', content: FAKE_SPEC }) };
    }
    if (/clamp/.test(problem)) return { text: action({ tool: 'edit', path: 'calc.js', search: '(x < lo ? lo : x)', replace: '(x < lo ? lo : x > hi ? hi : x)' }) };
    return { text: action({ tool: 'done', summary: 'nothing to do' }) };
  };
}
