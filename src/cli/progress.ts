import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, detail?: string): void;
  stop(): void;
}

/**
 * A progress bar with ETA on stderr (results go to stdout). Off a terminal (CI, pipes) it prints a plain status line
 * every few seconds instead of redrawing.
 */
export function createProgress(label: string, total: number, enabled = true): Progress {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted} {detail}`,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      etaBuffer: 200,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = performance.now();
  bar.start(total, 0, { detail: '', rate: '0' });
  return {
    update(done, detail = '') {
      const seconds = (performance.now() - started) / 1000;
      bar.update(done, { detail, rate: seconds > 0 ? Math.round(done / seconds).toString() : '0' });
    },
    stop() {
      bar.stop();
    },
  };
}
