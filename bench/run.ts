/**
 * `npm run bench -- <name> [options]` runs bench/<name>.ts with its options; without a name it lists the benchmarks
 * with the first line of each one's description.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['harness.ts', 'run.ts'].includes(f))
  .map((f) => f.slice(0, -3))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (name === undefined || !benches.includes(name)) {
  if (name !== undefined) process.stderr.write(`unknown benchmark "${name}"\n`);
  const summary = (bench: string) => /\/\*\*\s*\n?\s*\*?\s*(.+)/.exec(readFileSync(join(here, `${bench}.ts`), 'utf8'))?.[1] ?? '';
  process.stdout.write(`usage: npm run bench -- <name> [--runs N] [--json] …\n\n${benches.map((b) => `  ${b.padEnd(12)}${summary(b)}`).join('\n')}\n`);
  process.exit(name === undefined ? 0 : 2);
}
const child = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`), ...rest], { stdio: 'inherit' });
process.exit(child.status ?? 1);
