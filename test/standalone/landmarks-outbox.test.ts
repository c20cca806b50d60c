// The frame channel into the landmark page without a browser: the local server's long-poll outbox, driven with fetch
// as the page's frame worker drives it (src/landmarks/page.ts).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AssetServer } from '../../src/landmarks/browser.js';

const IDLE_MS = 300;

describe('AssetServer frame polls (Node → page messages over HTTP)', () => {
  let server: AssetServer;
  const pollUrl = (session: number) => new URL(`frames?session=${session}`, server.pageUrl(session)).href;
  const body = async (response: Response) => Buffer.from(await response.arrayBuffer());
  /** Whether the promise settles within `ms`. */
  const settlesWithin = (promise: Promise<unknown>, ms: number) =>
    Promise.race([promise.then(() => true, () => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms))]);

  before(async () => {
    server = await AssetServer.start({}, IDLE_MS);
  });

  after(async () => {
    await server.close();
  });

  it('answers each poll with one queued message, in order, its parts back to back', async () => {
    const outbox = server.openOutbox(1);
    outbox.push([Buffer.from('head|'), new Uint8Array([1, 2, 3])]);
    outbox.push([Buffer.from('close')]);
    const first = await fetch(pollUrl(1));
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-length'), '8');
    assert.deepEqual(await body(first), Buffer.concat([Buffer.from('head|'), Buffer.from([1, 2, 3])]));
    assert.equal((await body(await fetch(pollUrl(1)))).toString(), 'close');
    outbox.close();
  });

  it('holds a poll until a message comes, and refuses a second poll meanwhile', async () => {
    const outbox = server.openOutbox(2);
    const waiting = fetch(pollUrl(2));
    assert.equal(await settlesWithin(waiting, 100), false, 'the poll waits for a message');
    assert.equal((await fetch(pollUrl(2))).status, 409);
    outbox.push([Buffer.from('frame')]);
    assert.equal((await body(await waiting)).toString(), 'frame');
    outbox.close();
  });

  it('answers an idle poll 204 after the idle time, and keeps later messages for the next poll', async () => {
    const outbox = server.openOutbox(3);
    const start = performance.now();
    const idle = await fetch(pollUrl(3));
    assert.equal(idle.status, 204);
    assert.ok(performance.now() - start >= IDLE_MS - 20, 'not before the idle time');
    outbox.push([Buffer.from('late')]);
    assert.equal((await body(await fetch(pollUrl(3)))).toString(), 'late');
    outbox.close();
  });

  it('cuts off the waiting poll when the session closes, then answers 410; other paths get 404', async () => {
    const outbox = server.openOutbox(4);
    const waiting = fetch(pollUrl(4));
    assert.equal(await settlesWithin(waiting, 100), false);
    outbox.close();
    await assert.rejects(waiting);
    outbox.push([Buffer.from('ignored')]);
    assert.equal((await fetch(pollUrl(4))).status, 410);
    assert.equal((await fetch(pollUrl(99))).status, 410);
    const wrongToken = new URL(pollUrl(4));
    wrongToken.pathname = '/not-the-token/frames';
    assert.equal((await fetch(wrongToken)).status, 404);
  });
});
