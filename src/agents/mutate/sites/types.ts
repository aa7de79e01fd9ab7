/**
 * What a mutation is: a named operator acting at a place of a syntax tree, with the concrete
 * text replacements it can make there. Every commit message names its edits by operator.
 */

/** The operators, grouped by family (the file under sites/ that makes them). */
export const OPERATOR_FAMILIES = {
  operators: ['binary-operator', 'augmented-assignment', 'unary-operator', 'operand-swap', 'operand-drop', 'operand-add'],
  constants: ['constant', 'off-by-one'],
  identifiers: ['identifier', 'receiver', 'field'],
  calls: ['argument-swap', 'argument-add', 'argument-drop', 'call-replace', 'call-unwrap', 'call-wrap'],
  conditions: ['negate-condition', 'condition-replace', 'conjunct-drop', 'conjunct-add'],
  returns: ['return-value', 'return-insert'],
  slices: ['slice-add', 'slice-drop'],
  statements: ['statement-delete', 'statement-copy', 'statement-swap', 'statement-insert', 'collection-insert', 'jump-replace'],
} as const;

export type MutationOperator = (typeof OPERATOR_FAMILIES)[keyof typeof OPERATOR_FAMILIES][number];

export const MUTATION_OPERATORS: readonly MutationOperator[] = Object.values(OPERATOR_FAMILIES).flat();

/** Replace source[start, end) (JS string indices) with text. */
export interface Replacement {
  start: number;
  end: number;
  text: string;
}

/** One concrete edit. */
export interface Mutation {
  operator: MutationOperator;
  /** 1-based line of the edited location. */
  line: number;
  /** Short snippet before and after, for the commit message. */
  before: string;
  after: string;
  replacements: Replacement[];
}

/** A place where one operator acts, with the concrete edits it can make there (lazily built). */
export interface MutationSite {
  operator: MutationOperator;
  /** 1-based first and last line of the location. */
  line: number;
  endLine: number;
  /** Name of the innermost enclosing function, or null at top level. */
  scope: string | null;
  /** Number of concrete edits at this site. */
  size: number;
  /**
   * The first `preferred` edits are the more plausible ones (an inserted statement whose names
   * are all bound where it lands; a name used nearby); a targeted search favours them, in order.
   */
  preferred: number;
  /** Plausibility of this site among its operator's others (1 unless said: an index beats a call argument). */
  prior?: number;
  /** The i-th concrete edit, 0 <= i < size. */
  mutation(i: number): Mutation;
}
