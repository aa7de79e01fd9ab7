/**
 * What `evogit status` and the HTML report both say of a node, written once. Plain data with no
 * imports: the report's viewer (browser code) reads it too.
 */
export interface NodeIdentity {
  id: string;
  /** Full SHAs; the first is the git first parent, a second one makes the node a crossover. */
  parents: string[];
  branch: string | null;
  writer: string;
  agent: string;
  operator: string;
  pruned: boolean;
  promoted: boolean;
}
