/** JSON in one canonical form, for hashing and comparing settings, identities and configs by value. */

/** JSON with object keys sorted at every level (undefined fields left out), so equal values always hash alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/**
 * The dotted paths where two JSON values differ, each with both values in canonical JSON (undefined for an absent
 * field; the path is '' when the values themselves are not objects). For messages such as "the file was made with …".
 */
export function jsonDifferences(a: unknown, b: unknown, prefix = ''): { path: string; a: string | undefined; b: string | undefined }[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => jsonDifferences(a[k], b[k], prefix ? `${prefix}.${k}` : k));
  }
  const [x, y] = [canonicalJson(a) as string | undefined, canonicalJson(b) as string | undefined];
  return x === y ? [] : [{ path: prefix, a: x, b: y }];
}
