import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSchemaProblems, lazyValidator, schemaProblems, type SchemaProblem } from '../../src/util/json-schema.js';

/** One property per keyword the describer words, and an if/then rule whose `then` says why. */
const SCHEMA = {
  type: 'object',
  required: ['name', 'a/b~c'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z]+$', description: 'lower-case letters' },
    'a/b~c': { type: 'integer' },
    code: { type: 'string', pattern: '^[0-9]+$' },
    mode: { enum: ['fast', 'slow'], description: 'how hard to try' },
    format: { const: 'x/1', description: 'the only format there is' },
    size: { type: ['integer', 'null'], minimum: 1, description: 'pixels, or null for the original size' },
    window: { anyOf: [{ type: 'integer', minimum: 1 }, { const: 'all' }], description: 'a number of frames or "all"' },
    span: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
    tags: { type: 'array', items: { type: 'string', not: { const: 'none' } } },
    nested: { type: 'object', additionalProperties: false, properties: { x: { type: 'number' } } },
    closed: { type: 'object', additionalProperties: false },
    note: { type: 'string' },
  },
  if: { required: ['mode'], properties: { mode: { const: 'fast' } } },
  then: { required: ['size'], properties: { note: { not: {}, description: 'fast mode takes no note' } }, description: 'fast mode needs a size' },
} as const;

const validator = lazyValidator(SCHEMA);
const problems = (data: unknown): SchemaProblem[] => schemaProblems(validator(), data);
const VALID = { name: 'abc', 'a/b~c': 1 };
const withFields = (fields: Record<string, unknown>): Record<string, unknown> => ({ ...VALID, ...fields });

describe('schemaProblems: ajv errors in words', () => {
  it('a valid document has none', () => {
    assert.deepEqual(problems(VALID), []);
    assert.deepEqual(problems(withFields({ mode: 'fast', size: null, window: 'all', span: 'x', tags: ['a'], nested: { x: 1 }, closed: {} })), []);
  });

  it('required: the pointer of the missing field (escaped), no value; the rule’s description says why', () => {
    assert.deepEqual(problems({}), [
      { pointer: '/name', message: 'is required but missing' },
      { pointer: '/a~1b~0c', message: 'is required but missing' },
    ]);
    assert.deepEqual(problems(withFields({ mode: 'fast' })), [{ pointer: '/size', message: 'is required but missing (fast mode needs a size)' }]);
  });

  it('additionalProperties: the pointer of the extra field, the known fields and its value', () => {
    assert.deepEqual(problems(withFields({ 'colour/hue': 'red' })), [
      { pointer: '/colour~1hue', message: 'is not a field here (fields: name, a/b~c, code, mode, format, size, window, span, tags, nested, closed, note) (value: "red")' },
    ]);
    assert.deepEqual(problems(withFields({ nested: { x: 1, y: [2] } })), [{ pointer: '/nested/y', message: 'is not a field here (fields: x) (value: [2])' }]);
    assert.deepEqual(problems(withFields({ closed: { k: 1 } })), [{ pointer: '/closed/k', message: 'is not a field here (value: 1)' }]);
  });

  it('enum and const: the allowed values as JSON, with the description as why', () => {
    assert.deepEqual(problems(withFields({ mode: 'quick' })), [{ pointer: '/mode', message: 'must be one of "fast", "slow" (how hard to try) (value: "quick")' }]);
    assert.deepEqual(problems(withFields({ format: 'x/2' })), [{ pointer: '/format', message: 'must be "x/1" (the only format there is) (value: "x/2")' }]);
  });

  it('type: every allowed type, the description as why; the whole document is "/"', () => {
    assert.deepEqual(problems(withFields({ size: 'big' })), [
      { pointer: '/size', message: 'must be integer or null (pixels, or null for the original size) (value: "big")' },
    ]);
    assert.deepEqual(problems(withFields({ 'a/b~c': 1.5 })), [{ pointer: '/a~1b~0c', message: 'must be integer (value: 1.5)' }]);
    assert.deepEqual(problems([1, 2]), [{ pointer: '/', message: 'must be object (value: [1,2])' }]);
  });

  it('other keywords keep ajv’s words and show the value, without the description', () => {
    assert.deepEqual(problems(withFields({ size: 0 })), [{ pointer: '/size', message: 'must be >= 1 (value: 0)' }]);
  });

  it('not: a field that must be absent is "left out" with why; any other not keeps ajv’s words', () => {
    assert.deepEqual(problems(withFields({ mode: 'fast', size: 2, note: 'hi' })), [
      { pointer: '/note', message: 'must be left out (fast mode takes no note) (value: "hi")' },
    ]);
    assert.deepEqual(problems(withFields({ tags: ['a', 'none'] })), [{ pointer: '/tags/1', message: 'must NOT be valid (value: "none")' }]);
  });

  it('pattern: the description instead of the regular expression, when there is one', () => {
    assert.deepEqual(problems(withFields({ name: 'ABC' })), [{ pointer: '/name', message: 'must be lower-case letters (value: "ABC")' }]);
    assert.deepEqual(problems(withFields({ code: 'x1' })), [{ pointer: '/code', message: 'must match pattern "^[0-9]+$" (value: "x1")' }]);
  });

  it('anyOf: one problem, worded by the description when there is one; the branch errors are left out', () => {
    assert.deepEqual(problems(withFields({ window: 0 })), [{ pointer: '/window', message: 'must be a number of frames or "all" (value: 0)' }]);
    assert.deepEqual(problems(withFields({ span: true })), [{ pointer: '/span', message: 'must match a schema in anyOf (value: true)' }]);
  });

  it('if/then: the `then` errors are reported, the `if` error is left out', () => {
    const validate = validator();
    assert.equal(validate(withFields({ mode: 'fast' })), false);
    assert.ok(validate.errors?.some((e) => e.keyword === 'if'), 'ajv reports the if error itself');
    assert.deepEqual(problems(withFields({ mode: 'fast', note: 'hi' })).map((p) => p.pointer), ['/size', '/note']);
  });

  it('every problem at once, in ajv’s order; long values are cut', () => {
    const long = 'a'.repeat(200);
    assert.deepEqual(problems({ name: long.toUpperCase(), 'a/b~c': 'one', mode: 'quick' }), [
      { pointer: '/name', message: `must be lower-case letters (value: "${'A'.repeat(76)}...)` },
      { pointer: '/a~1b~0c', message: 'must be integer (value: "one")' },
      { pointer: '/mode', message: 'must be one of "fast", "slow" (how hard to try) (value: "quick")' },
    ]);
  });
});

describe('formatSchemaProblems', () => {
  it('one problem on one line; several as an indented list under a count', () => {
    assert.equal(formatSchemaProblems('config c.json', problems(withFields({ size: 0 }))), 'config c.json: /size: must be >= 1 (value: 0)');
    assert.equal(
      formatSchemaProblems('config c.json', problems({ name: 'abc', size: 0 })),
      'config c.json has 2 problems:\n  /a~1b~0c: is required but missing\n  /size: must be >= 1 (value: 0)',
    );
  });
});
