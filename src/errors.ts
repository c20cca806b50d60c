/**
 * An error caused by the user's input (a file, a field, a frame, an option), not by a bug in signweave.
 * The CLI prints its message alone, without a stack trace, and exits with `exitCode`.
 */
export class SignweaveInputError extends Error {
  override readonly name = 'SignweaveInputError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
