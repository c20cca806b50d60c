/** Option parsers and argument checks the commands share (commander reports an InvalidArgumentError with the option's name). */
import { statSync } from 'node:fs';
import { InvalidArgumentError } from '@commander-js/extra-typings';
import { SignweaveInputError } from '../errors.js';
import type { VideoSource } from '../video/probe.js';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer.');
  return n;
}

export function integer(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError('must be an integer.');
  return n;
}

/** An integer in [min, max]. */
export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer in [${min}, ${max}].`);
    return n;
  };
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number.');
  return n;
}

export function seconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('must be a number of seconds ≥ 0.');
  return n;
}

/** A folder is a frame folder and needs the rate of its images (`--fps`); a file has its own rate. */
export function videoSource(path: string, fps: number | undefined): VideoSource {
  let folder = false;
  try {
    folder = statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    // Unreadable: decoding names the file and why.
  }
  if (folder) {
    if (fps === undefined) throw new SignweaveInputError(`${path} is a folder: give the frame rate of its numbered images with --fps (e.g. --fps 25 for PHOENIX-2014T)`);
    return { frames: path, fps };
  }
  if (fps !== undefined) throw new SignweaveInputError(`--fps is the frame rate of a frame folder, but ${path} is not a folder (a video file has its own rate)`);
  return path;
}
