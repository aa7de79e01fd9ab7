/** Placeholder until the CLI lands: keeps the bin runnable. */
export async function main(_argv: string[]): Promise<number> {
  process.stdout.write('evogit 0.1.0\n');
  return 0;
}
