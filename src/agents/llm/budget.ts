/**
 * Token and cost accounting, pure. Prices are USD per million tokens. A call is planned
 * before it is made: its prompt is estimated conservatively and its output capped so the
 * node's budget cannot be exceeded by the reply.
 */

export interface Price {
  input: number;
  output: number;
}

export interface Spent {
  input: number;
  output: number;
  cost: number;
}

export interface Budget {
  maxCostUsd?: number;
  maxTokens?: number;
}

export function costOf(usage: { input: number; output: number }, price: Price | undefined): number {
  if (!price) return 0;
  return (usage.input * price.input + usage.output * price.output) / 1e6;
}

/** Conservative: code runs about 3–4 characters a token; count 3 plus a little per message. */
export function estimatePromptTokens(texts: readonly string[]): number {
  return texts.reduce((n, t) => n + Math.ceil(t.length / 3) + 8, 0);
}

export type CallPlan = { ok: true; maxTokens: number } | { ok: false; reason: string };

export interface PlanInput {
  spent: Spent;
  promptTokens: number;
  /** The configured output cap of one reply. */
  maxTokens: number;
  budget: Budget;
  price: Price | undefined;
  /** Below this many output tokens a reply is not worth asking for. */
  minOutput?: number;
}

export function planCall({ spent, promptTokens, maxTokens, budget, price, minOutput = 64 }: PlanInput): CallPlan {
  let cap = maxTokens;
  if (budget.maxTokens !== undefined) {
    const used = spent.input + spent.output;
    const left = budget.maxTokens - used - promptTokens;
    if (left < minOutput) {
      return { ok: false, reason: `token budget: ${used} of ${budget.maxTokens} used, the next call needs about ${promptTokens + minOutput}` };
    }
    cap = Math.min(cap, left);
  }
  if (budget.maxCostUsd !== undefined && price) {
    const left = budget.maxCostUsd - spent.cost - (promptTokens * price.input) / 1e6;
    const affordable = price.output > 0 ? Math.floor((left * 1e6) / price.output) : left > 0 ? cap : 0;
    if (affordable < minOutput) {
      return {
        ok: false,
        reason: `cost budget: $${spent.cost.toFixed(6)} of $${budget.maxCostUsd} spent, the next call could cost about $${((promptTokens * price.input + minOutput * price.output) / 1e6).toFixed(6)}`,
      };
    }
    cap = Math.min(cap, affordable);
  }
  return { ok: true, maxTokens: cap };
}
