#!/usr/bin/env node
import { Command } from '@commander-js/extra-typings';
import { SignweaveInputError } from '../errors.js';
import { SIGNWEAVE_VERSION } from '../version.js';
import { InterruptedError } from './interrupt.js';
import { ctcDecodeCommand } from './commands/ctc-decode.js';
import { evalCommand } from './commands/eval.js';
import { featuresCommand } from './commands/features.js';
import { fingerspellCommand, phonemesCommand, pseudoglossCommand } from './commands/pseudogloss.js';
import { landmarksCommand } from './commands/landmarks.js';
import { modelsCommand } from './commands/models.js';
import { simulateCommand } from './commands/simulate.js';
import { scoreCommand } from './commands/score.js';
import { trainCommand } from './commands/train.js';
import { translateCommand } from './commands/translate.js';

const program = new Command('signweave')
  .description('Sign-language video to English (SignBind-LLM): experts, router, fusion, LLM decoder, evaluation.')
  .version(SIGNWEAVE_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  // An option after a subcommand belongs to it: `features cache list --cache-dir D` is the list's --cache-dir, not features'.
  .enablePositionalOptions()
  .addCommand(scoreCommand)
  .addCommand(ctcDecodeCommand)
  .addCommand(pseudoglossCommand)
  .addCommand(phonemesCommand)
  .addCommand(fingerspellCommand)
  .addCommand(landmarksCommand)
  .addCommand(featuresCommand)
  .addCommand(modelsCommand)
  .addCommand(translateCommand)
  .addCommand(evalCommand)
  .addCommand(simulateCommand)
  .addCommand(trainCommand);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof InterruptedError) {
    process.stderr.write('signweave: interrupted\n');
    process.exitCode = 130;
  } else if (err instanceof SignweaveInputError) {
    process.stderr.write(`signweave: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    const error = err as Error;
    process.stderr.write(`signweave: internal error: ${error.message ?? String(err)}\n`);
    if (process.env.SIGNWEAVE_DEBUG) process.stderr.write(`${error.stack}\n`);
    else process.stderr.write('(set SIGNWEAVE_DEBUG=1 for the stack trace; please report it)\n');
    process.exitCode = 70;
  }
}
