import type { Backbone } from '../../src/backbone/types.js';

/** Counts the backbone's runs, so a test sees whether extraction needed it at all. */
export function counted(inner: Backbone): Backbone & { calls: number } {
  const wrapper = {
    info: inner.info,
    calls: 0,
    async embed(input: Parameters<Backbone['embed']>[0]) {
      wrapper.calls++;
      return inner.embed(input);
    },
    dispose: () => inner.dispose(),
    [Symbol.asyncDispose]: () => inner.dispose(),
  };
  return wrapper;
}
