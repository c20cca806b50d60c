/**
 * The two halves that host MediaPipe for Node: a local HTTP + WebSocket server (the page, the tasks-vision bundle,
 * its wasm folder and the model files) and a headless Chromium session showing that page. The server lives as long
 * as the extractor; a session can die (crash, kill) and be replaced while the server stays.
 *
 * MediaPipe's tasks-vision does not run in Node (it needs a browser's WebGL and ImageData; see
 * ../shared/design/notes.md), so Chromium runs it with the CPU delegate. Frames go to the page as HTTP responses to a
 * long poll from a worker of the page (src/landmarks/protocol.ts), results come back over a WebSocket, both on
 * 127.0.0.1. Measured against frames sent over the WebSocket: Chromium reads a WebSocket's data on the page's main
 * thread, so a frame could only arrive once detection of the one before had finished; the worker's fetch lands and
 * widens the next frame to RGBA on another thread meanwhile, and HTTP moves a 640×480 frame faster (≈8 vs ≈12 ms in a
 * probe on a loaded 2-core machine).
 *
 * @mediapipe/tasks-vision is pinned (package.json) to 1.1.0, the newest release: it loads and detects with the CPU
 * delegate in Debian's Chromium 156 as 0.10.x did; npm's `latest` tag still points at the broken 2023 build.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserServer, type Page } from 'playwright-core';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { PAGE_HTML, PAGE_SCRIPT, WORKER_SCRIPT } from './page.js';
import type { InitMessage, PageMessage } from './protocol.js';

export type LandmarkTask = 'face' | 'hands' | 'pose';

/** Where @mediapipe/tasks-vision is installed, and its version (results name the extractor that made them). */
export const tasksVision = (() => {
  const dir = dirname(fileURLToPath(import.meta.resolve('@mediapipe/tasks-vision')));
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  return { dir, version };
})();

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  // WebAssembly.instantiateStreaming insists on this type.
  '.wasm': 'application/wasm',
  '.task': 'application/octet-stream',
};

/**
 * How long a frame poll waits for a message before it is answered 204 (no content) and the worker asks again, so that
 * no request stays open for ever between runs.
 */
const POLL_IDLE_MS = 30_000;

/**
 * Node → page messages of one session, handed out one per HTTP response to the page worker's long poll
 * (`frames?session=N`): queued while no poll waits, sent at once to a waiting one.
 */
export class Outbox {
  private readonly queue: Uint8Array[][] = [];
  private waiting: ServerResponse | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly onClose: () => void,
    private readonly idleMs: number,
  ) {}

  /** Queues one message, given as parts that are sent back to back (no copy into one buffer). */
  push(parts: Uint8Array[]): void {
    if (this.closed) return;
    const res = this.waiting;
    if (!res) {
      this.queue.push(parts);
      return;
    }
    this.release();
    const length = parts.reduce((sum, part) => sum + part.byteLength, 0);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': length, 'cache-control': 'no-store' });
    res.cork();
    for (const part of parts) res.write(part);
    res.end();
  }

  poll(res: ServerResponse): void {
    // One poll at a time keeps the messages in order; a second one means a confused page.
    if (this.closed || this.waiting) {
      res.writeHead(409).end();
      return;
    }
    this.waiting = res;
    res.once('close', () => {
      if (this.waiting === res) this.release();
    });
    this.idleTimer = setTimeout(() => {
      this.release();
      res.writeHead(204).end();
    }, this.idleMs);
    const next = this.queue.shift();
    if (next) this.push(next);
  }

  /** Drops what is queued and cuts off the waiting poll (the page is going away). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.queue.length = 0;
    const res = this.waiting;
    this.release();
    res?.destroy();
  }

  private release(): void {
    clearTimeout(this.idleTimer);
    this.waiting = null;
  }
}

/**
 * Serves everything under a random path prefix on 127.0.0.1 (another local user cannot guess the URLs), hands each
 * page's WebSocket (`ws?session=N`) to whoever waits for session N, and answers its frame polls (`frames?session=N`)
 * from session N's outbox.
 */
export class AssetServer {
  private readonly files = new Map<string, string>();
  private readonly waiting = new Map<number, (socket: WebSocket) => void>();
  private readonly outboxes = new Map<number, Outbox>();
  private readonly sockets = new WebSocketServer({ noServer: true, maxPayload: 256 * 1024 * 1024 });

  private constructor(
    private readonly http: Server,
    readonly token: string,
    readonly models: Partial<Record<LandmarkTask, string>>,
    private readonly pollIdleMs: number,
  ) {
    this.files.set('tasks-vision/vision_bundle.mjs', join(tasksVision.dir, 'vision_bundle.mjs'));
    const wasmDir = join(tasksVision.dir, 'wasm');
    for (const name of readdirSync(wasmDir)) this.files.set(`tasks-vision/wasm/${name}`, join(wasmDir, name));
    for (const [task, path] of Object.entries(models)) this.files.set(`models/${task}.task`, path);
  }

  static async start(models: Partial<Record<LandmarkTask, string>>, pollIdleMs = POLL_IDLE_MS): Promise<AssetServer> {
    const http = createServer();
    const server = new AssetServer(http, randomBytes(16).toString('hex'), models, pollIdleMs);
    http.on('request', (req, res) => server.serve(req, res));
    http.on('upgrade', (req, socket, head) => {
      const session = server.sessionOf(req, 'ws');
      const accept = session === null ? undefined : server.waiting.get(session);
      if (!accept) {
        socket.destroy();
        return;
      }
      server.waiting.delete(session!);
      server.sockets.handleUpgrade(req, socket, head, accept);
    });
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(0, '127.0.0.1', () => resolve());
    });
    return server;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  private get base(): string {
    return `http://127.0.0.1:${this.port}/${this.token}/`;
  }

  pageUrl(session: number): string {
    return `${this.base}index.html?session=${session}`;
  }

  modelUrls(): InitMessage['models'] {
    const urls: InitMessage['models'] = {};
    for (const task of Object.keys(this.models) as LandmarkTask[]) urls[task] = `${this.base}models/${task}.task`;
    return urls;
  }

  /** Resolves with the WebSocket that the page of `session` opens. */
  expectSocket(session: number): { socket: Promise<WebSocket>; cancel: () => void } {
    let cancel = () => {};
    const socket = new Promise<WebSocket>((resolve) => {
      this.waiting.set(session, resolve);
      cancel = () => this.waiting.delete(session);
    });
    return { socket, cancel };
  }

  /** The outbox whose messages the page of `session` polls for; closing it ends that. */
  openOutbox(session: number): Outbox {
    const outbox = new Outbox(() => this.outboxes.delete(session), this.pollIdleMs);
    this.outboxes.set(session, outbox);
    return outbox;
  }

  private sessionOf(req: IncomingMessage, endpoint: 'ws' | 'frames'): number | null {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== `/${this.token}/${endpoint}`) return null;
    const session = Number(url.searchParams.get('session'));
    return Number.isInteger(session) ? session : null;
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const prefix = `/${this.token}/`;
    const name = path.startsWith(prefix) ? path.slice(prefix.length) : null;
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET' || name === null) return send(404, 'text/plain', 'not found');
    if (name === 'frames') {
      const session = this.sessionOf(req, 'frames');
      const outbox = session === null ? undefined : this.outboxes.get(session);
      // A page whose session is over gets nothing more.
      return outbox ? outbox.poll(res) : send(410, 'text/plain', 'session over');
    }
    if (name === 'index.html') return send(200, MIME['.html'], PAGE_HTML);
    if (name === 'page.js') return send(200, MIME['.js'], PAGE_SCRIPT);
    if (name === 'frames.js') return send(200, MIME['.js'], WORKER_SCRIPT);
    const file = this.files.get(name);
    if (!file) return send(404, 'text/plain', 'not found');
    const ext = name.slice(name.lastIndexOf('.'));
    res.writeHead(200, { 'content-type': MIME[ext] ?? 'application/octet-stream' });
    createReadStream(file)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  async close(): Promise<void> {
    this.waiting.clear();
    for (const outbox of this.outboxes.values()) outbox.close();
    for (const socket of this.sockets.clients) socket.terminate();
    this.sockets.close();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}

/**
 * Flags from ../shared/design/notes.md. Playwright adds `--headless` and its own defaults (which already disable
 * background networking, component updates and /dev/shm use). Software WebGL (SwiftShader) stays available with
 * --disable-gpu, and MediaPipe needs a WebGL context even on the CPU delegate.
 */
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-dev-shm-usage',
];

export interface SessionOptions {
  chromiumPath: string;
  /** Sessions are numbered so a late WebSocket from a dead page cannot attach to its successor. */
  id: number;
  timeoutMs: number;
}

/** One Chromium process showing the detection page, with the page's WebSocket open and its models loaded. */
export class ChromiumSession {
  private dead = false;
  /** Why the session died on its own (null while alive, or after close()/kill()). */
  private deathReason: string | null = null;
  private readonly deathListeners: ((why: string) => void)[] = [];
  private messageListener: (data: RawData, isBinary: boolean) => void = () => {};

  private constructor(
    private readonly server: BrowserServer,
    private readonly browser: Browser,
    private readonly page: Page,
    readonly socket: WebSocket,
    private readonly outbox: Outbox,
    readonly version: string,
    /** The page's last uncaught errors and console errors, quoted when it fails to start or dies. */
    private readonly pageErrors: string[],
  ) {}

  /** The browser's main process id (its children share its process group). */
  get pid(): number {
    return this.server.process().pid!;
  }

  get alive(): boolean {
    return !this.dead;
  }

  static async start(assets: AssetServer, options: SessionOptions): Promise<ChromiumSession> {
    const server = await chromium.launchServer({
      executablePath: options.chromiumPath,
      args: CHROMIUM_FLAGS,
      headless: true,
      timeout: options.timeoutMs,
      // Ctrl-C is the caller's to handle (src/cli/interrupt.ts aborts, then the extractor is disposed).
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
    const expected = assets.expectSocket(options.id);
    const outbox = assets.openOutbox(options.id);
    const pageErrors: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      const browser = await chromium.connect(server.wsEndpoint(), { timeout: options.timeoutMs });
      const page = await browser.newPage();
      page.on('pageerror', (err) => remember(pageErrors, err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') remember(pageErrors, msg.text());
      });
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the landmark page did not start within ${options.timeoutMs} ms${describeErrors(pageErrors)}`)),
          options.timeoutMs,
        );
      });
      await Promise.race([page.goto(assets.pageUrl(options.id)), timeout]);
      const socket = await Promise.race([expected.socket, timeout]);
      const ready = new Promise<PageMessage>((resolve, reject) => {
        socket.once('message', (data) => resolve(JSON.parse(data.toString()) as PageMessage));
        socket.once('close', () => reject(new Error(`the landmark page closed while loading the models${describeErrors(pageErrors)}`)));
      });
      socket.send(JSON.stringify({ op: 'init', models: assets.modelUrls() } satisfies InitMessage));
      const answer = await Promise.race([ready, timeout]);
      if (answer.op !== 'ready') {
        throw new Error(`MediaPipe could not start in Chromium: ${answer.op === 'failed' ? answer.message : JSON.stringify(answer)}`);
      }
      const session = new ChromiumSession(server, browser, page, socket, outbox, browser.version(), pageErrors);
      session.watch();
      return session;
    } catch (err) {
      expected.cancel();
      outbox.close();
      await server.kill();
      killGroup(server.process().pid);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private watch(): void {
    const die = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      this.deathReason = why + describeErrors(this.pageErrors);
      for (const listener of this.deathListeners) listener(this.deathReason);
    };
    this.socket.on('message', (data, isBinary) => this.messageListener(data, isBinary));
    this.socket.on('close', () => die('the landmark page closed its connection'));
    this.page.on('crash', () => die('the landmark page crashed'));
    this.browser.on('disconnected', () => die('Chromium disconnected'));
    const child = this.server.process();
    child.once('exit', (code, signal) => die(`Chromium exited (${signal ?? `code ${code}`})`));
    // Whatever happened between start-up and here has no event left to fire.
    if (this.socket.readyState !== this.socket.OPEN) die('the landmark page closed its connection');
    else if (!this.browser.isConnected()) die('Chromium disconnected');
    else if (child.exitCode !== null || child.signalCode !== null) die('Chromium exited');
  }

  onMessage(listener: (data: RawData, isBinary: boolean) => void): void {
    this.messageListener = listener;
  }

  /**
   * Called once, with the reason, when the page or the browser goes away for any reason other than close() or kill();
   * at once (on the next microtask) when that has already happened.
   */
  onDeath(listener: (why: string) => void): void {
    const why = this.deathReason;
    if (why !== null) queueMicrotask(() => listener(why));
    else this.deathListeners.push(listener);
  }

  /** Queues one binary message (its parts sent back to back) for the page's frame poll. */
  send(parts: Uint8Array[]): void {
    this.outbox.push(parts);
  }

  /** Closes the page's connection and the browser, then kills whatever is left of its process group. */
  async close(): Promise<void> {
    const pid = this.pid;
    this.dead = true;
    this.outbox.close();
    this.socket.terminate();
    const closing = this.server.close().catch(() => undefined);
    const late = setTimeout(() => void this.server.kill().catch(() => undefined), 5000);
    await closing;
    clearTimeout(late);
    killGroup(pid);
  }

  /** For a restart: the session is beyond saving, so nothing is waited for. */
  async kill(): Promise<void> {
    const pid = this.pid;
    this.dead = true;
    this.outbox.close();
    this.socket.terminate();
    await this.server.kill().catch(() => undefined);
    killGroup(pid);
  }
}

/** Kills every process left in the browser's process group: killing the main process alone can orphan its children. */
function killGroup(pid: number | undefined): void {
  if (!pid) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already empty.
  }
}

function remember(list: string[], message: string): void {
  list.push(message);
  if (list.length > 5) list.shift();
}

function describeErrors(errors: string[]): string {
  return errors.length ? ` (page errors: ${errors.join(' | ')})` : '';
}
