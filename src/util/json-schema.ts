/**
 * JSON Schema validation shared by bundle.json and pipeline.json: one lazily compiled ajv validator per schema, and
 * JSON pointers (RFC 6901) for messages that say where in the document a problem is and what is there.
 */
import { Ajv, type ValidateFunction } from 'ajv';

/**
 * A validator compiled on first use (compiling costs milliseconds; most commands never validate). `allErrors` reports
 * every problem at once; `verbose` gives each error its schema, whose `description` words the rule for people.
 */
export function lazyValidator(schema: object): () => ValidateFunction {
  let compiled: ValidateFunction | undefined;
  return () => (compiled ??= new Ajv({ allErrors: true, verbose: true }).compile(schema));
}

/** The value a JSON pointer designates, or undefined (`''` is the whole document). */
export function valueAtPointer(data: unknown, pointer: string): unknown {
  let value = data;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A property name as one pointer segment. */
export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** A value as shown in an error message: JSON, cut to 80 characters. */
export function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
