/**
 * JSON Schema validation shared by every schema in signweave (bundle.json, pipeline.json, the training config, the
 * evaluation manifest): one lazily compiled ajv validator per schema, and its errors as problems in words, each at a
 * JSON pointer (RFC 6901) with the value found there.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

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

/** One schema violation: the JSON pointer of what is wrong (`/` is the whole document) and what is wrong there. */
export interface SchemaProblem {
  pointer: string;
  message: string;
}

/** A `not` schema that every value matches (`{}` or `true`) forbids the field outright. */
function forbidsAnything(schema: unknown): boolean {
  return schema === true || (typeof schema === 'object' && schema !== null && Object.keys(schema).length === 0);
}

/**
 * One ajv error in words. The schema holding the keyword may carry a `description`: it says why for a rule
 * (required, enum, const, type, not) and what is expected where ajv's own words would show a regex or the branches
 * (pattern, anyOf). Every message but a missing field's ends with the value found.
 */
function describeError(e: ErrorObject, data: unknown): SchemaProblem {
  const parent = e.parentSchema as { description?: string; properties?: Record<string, unknown> } | undefined;
  const description = parent?.description;
  const why = description ? ` (${description})` : '';
  let pointer = e.instancePath;
  let message: string;
  switch (e.keyword) {
    case 'required':
      return { pointer: `${pointer}/${escapePointer((e.params as { missingProperty: string }).missingProperty)}`, message: `is required but missing${why}` };
    case 'additionalProperties': {
      pointer += `/${escapePointer((e.params as { additionalProperty: string }).additionalProperty)}`;
      const fields = Object.keys(parent?.properties ?? {});
      message = `is not a field here${fields.length > 0 ? ` (fields: ${fields.join(', ')})` : ''}`;
      break;
    }
    case 'enum':
      message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}${why}`;
      break;
    case 'const':
      message = `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}${why}`;
      break;
    case 'type':
      message = `must be ${String((e.params as { type: string | string[] }).type).split(',').join(' or ')}${why}`;
      break;
    case 'not':
      message = `${forbidsAnything(e.schema) ? 'must be left out' : (e.message ?? e.keyword)}${why}`;
      break;
    case 'pattern':
    case 'anyOf':
      message = description ? `must be ${description}` : (e.message ?? e.keyword);
      break;
    default:
      message = e.message ?? e.keyword;
  }
  return { pointer: pointer || '/', message: `${message} (value: ${showValue(valueAtPointer(data, pointer))})` };
}

/**
 * Every problem `validate` (a `lazyValidator`'s: verbose, all errors) finds in `data`, in ajv's order; none when it
 * is valid. The `if` errors of conditional rules and the branch errors under an `anyOf` repeat what another error
 * says (the `then` error; the `anyOf` error itself), so they are left out.
 */
export function schemaProblems(validate: ValidateFunction, data: unknown): SchemaProblem[] {
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const anyOfPaths = errors.filter((e) => e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  return errors.filter((e) => e.keyword !== 'if' && !anyOfPaths.some((p) => e.schemaPath.startsWith(p))).map((e) => describeError(e, data));
}

/** `SOURCE: pointer: message` for one problem; `SOURCE has N problems:` and one indented line each for several. */
export function formatSchemaProblems(source: string, problems: readonly SchemaProblem[]): string {
  if (problems.length === 1) return `${source}: ${problems[0].pointer}: ${problems[0].message}`;
  return `${source} has ${problems.length} problems:\n${problems.map((p) => `  ${p.pointer}: ${p.message}`).join('\n')}`;
}
