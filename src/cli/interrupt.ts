/**
 * Ctrl-C / SIGTERM as an AbortSignal, so long-running commands stop between items, clean up (no half-written
 * output, no leftover temp files) and exit with 130 instead of dying mid-write.
 */
const controller = new AbortController();
let installed = false;

export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor() {
    super('interrupted');
  }
}

export function interruptSignal(): AbortSignal {
  if (!installed) {
    installed = true;
    const stop = () => {
      // A second Ctrl-C while cleaning up ends the process at once.
      if (controller.signal.aborted) process.exit(130);
      controller.abort(new InterruptedError());
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  }
  return controller.signal;
}
