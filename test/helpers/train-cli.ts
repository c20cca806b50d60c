import { createTrainCommand } from '../../src/cli/commands/train.js';

/** Runs `signweave train …` in process (no progress bar) and returns what it printed on stdout. */
export async function trainCli(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // The command writes strings; the test runner's own reports (binary) pass through.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (typeof chunk === 'string' ? (chunks.push(chunk), true) : write(chunk, ...rest))) as typeof process.stdout.write;
  try {
    await createTrainCommand().parseAsync([...args, '--no-progress'], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  return chunks.join('');
}
