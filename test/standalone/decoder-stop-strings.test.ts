import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StopStringFilter } from '../../src/decoder/stop-strings.js';

/** Feeds `pieces` and returns what was released at each step, then the flush. */
function run(stops: string[], pieces: string[]): { released: string[]; flushed: string; matched: string | null } {
  const filter = new StopStringFilter(stops);
  const released = pieces.map((p) => filter.push(p));
  return { released, flushed: filter.flush(), matched: filter.matched };
}

describe('StopStringFilter: stop strings on the streamed text', () => {
  it('without stop strings everything passes at once', () => {
    assert.deepEqual(run([], ['a', ' b', '']), { released: ['a', ' b', ''], flushed: '', matched: null });
  });

  it('cuts before a stop string split over pieces, with its leading space, and releases nothing after', () => {
    assert.deepEqual(run([' Gloss:'], ['I went', ' G', 'lo', 'ss', ':', ' more']), {
      released: ['I went', '', '', '', '', ''],
      flushed: '',
      matched: ' Gloss:',
    });
    assert.deepEqual(run([' is'], ['This', ' is', ' it']), { released: ['This', '', ''], flushed: '', matched: ' is' });
  });

  it('holds back only a tail that could start a stop string, and releases it when it does not', () => {
    assert.deepEqual(run(['###'], ['a#', '#b', 'c']), { released: ['a', '##b', 'c'], flushed: '', matched: null });
    assert.deepEqual(run(['###'], ['end ##']), { released: ['end '], flushed: '##', matched: null });
  });

  it('of the stop strings complete in the text so far, the one starting first wins', () => {
    assert.deepEqual(run(['STOP', 'x'], ['abc x STOP']), { released: ['abc '], flushed: '', matched: 'x' });
    assert.deepEqual(run(['longer stop', 'op'], ['a longer stop']), { released: ['a '], flushed: '', matched: 'longer stop' });
    assert.deepEqual(run(['longer stop', 'op'], ['a longer st', 'op']), { released: ['a ', ''], flushed: '', matched: 'longer stop' });
    // Streaming stops as soon as one completes: "ger" before "longer stop" has finished.
    assert.deepEqual(run(['longer stop', 'ger'], ['a longer', ' stop']), { released: ['a lon', ''], flushed: '', matched: 'ger' });
  });

  it('joined, the released text is the input up to the first stop string', () => {
    const text = 'We can take a bath and make a new friend. We';
    for (const stop of [' bath', 'new', ' W', 'friend. We', 'absent']) {
      const pieces = text.match(/.{1,3}/gs) ?? [];
      const { released, flushed } = run([stop], pieces);
      const cut = text.indexOf(stop);
      assert.equal(released.join('') + flushed, cut < 0 ? text : text.slice(0, cut), stop);
    }
  });
});
