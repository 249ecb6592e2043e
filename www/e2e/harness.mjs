// What the page's end-to-end test (page.test.mjs) and its load benchmark
// (bench-load.mjs) share: starting `tunevm serve`, launching Debian's Chromium
// through playwright-core, and bounded waits that say what they waited for.
//
// Environment (paths relative to the repository root):
//   TUNEVM_BIN     the tunevm binary with the `serve` subcommand (target/debug/tunevm)
//   DIST_DIR       the built site, as scripts/build-web.sh leaves it (dist)
//   CHROMIUM_BIN   the browser (/usr/bin/chromium); playwright's own download is not used
//   ARTIFACT_DIR   where screenshots go (target/e2e-artifacts)

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fromRepo = (p) => resolve(REPO, p);

export const TUNEVM_BIN = fromRepo(process.env.TUNEVM_BIN || 'target/debug/tunevm');
export const DIST_DIR = fromRepo(process.env.DIST_DIR || 'dist');
export const CHROMIUM_BIN = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const ARTIFACT_DIR = fromRepo(process.env.ARTIFACT_DIR || 'target/e2e-artifacts');

// Flags for a machine without a display, a GPU or a way out to the internet
// (without the background-networking ones Chromium keeps calling hosts it
// cannot reach).
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Rejects with `message` (and how long it waited) if `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, message) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (gave up after ${ms} ms)`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * Starts `tunevm serve DIST_DIR --port 0` and resolves to { url, stop() } once
 * it has printed `tunevm: serving DIR at http://127.0.0.1:PORT/`.
 */
export async function startServer({ timeoutMs = 15_000, dir = DIST_DIR } = {}) {
  if (!existsSync(TUNEVM_BIN)) {
    throw new Error(`no tunevm binary at ${TUNEVM_BIN} (set TUNEVM_BIN, or cargo build --bin tunevm)`);
  }
  if (!existsSync(resolve(dir, 'index.html'))) {
    throw new Error(`no built site at ${dir} (set DIST_DIR, or run scripts/build-web.sh)`);
  }
  const child = spawn(TUNEVM_BIN, ['serve', dir, '--port', '0'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  child.stdout.setEncoding('utf8');

  const url = await withTimeout(new Promise((resolveUrl, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      const first = stdout.slice(0, nl);
      const m = /^tunevm: serving .* at (http:\/\/127\.0\.0\.1:\d+\/)\s*$/.exec(first);
      if (m) resolveUrl(m[1]);
      else reject(new Error(`unexpected first line from tunevm serve: ${JSON.stringify(first)}`));
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => reject(new Error(
      `tunevm serve exited (${signal || code}) before printing its URL; stderr: ${stderr.trim()}`)));
  }), timeoutMs, `tunevm serve printed no URL; stdout: ${JSON.stringify(stdout)}; stderr: ${JSON.stringify(stderr)}`)
    .catch((e) => { child.kill('SIGKILL'); throw e; });
  // Keep draining stdout so a chatty server never blocks on a full pipe.
  child.stdout.resume();

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await withTimeout(exited, 3_000, 'tunevm serve ignored SIGTERM').catch(() => child.kill('SIGKILL'));
  };
  return { url, stop, stderr: () => stderr };
}

export function launchBrowser() {
  if (!existsSync(CHROMIUM_BIN)) {
    throw new Error(`no Chromium at ${CHROMIUM_BIN} (apt-get install chromium, or set CHROMIUM_BIN)`);
  }
  return chromium.launch({ executablePath: CHROMIUM_BIN, headless: true, args: CHROMIUM_ARGS });
}

/**
 * page.waitForFunction with a bound and a message saying what never became
 * true; `describe` (a page function) adds what the page showed at that moment.
 */
export async function waitInPage(page, fn, arg, { timeout, message, describe }) {
  try {
    return await page.waitForFunction(fn, arg, { timeout, polling: 25 });
  } catch (e) {
    let seen = '';
    if (describe) {
      seen = await page.evaluate(describe).then((s) => `; page shows: ${s}`, () => '');
    }
    throw new Error(`${message} (gave up after ${timeout} ms${seen}) [${e.message.split('\n')[0]}]`);
  }
}

/** Installed before the page's own scripts: the time (performance.now) the page said it was ready. */
export function recordReadyTime() {
  const mark = () => {
    if (window.__e2eReadyAt === undefined && document.body && document.body.dataset.ready === '1') {
      window.__e2eReadyAt = performance.now();
      return true;
    }
    return false;
  };
  const watcher = new MutationObserver(() => { if (mark()) watcher.disconnect(); });
  watcher.observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-ready'] });
}

const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.md': 'text/markdown; charset=utf-8',
};

/**
 * An ordinary static host for DIST_DIR: no COOP/COEP headers (what a plain
 * static host sends), so the page has to isolate itself or fall back.
 * Resolves to { url, stop() }.
 */
export async function startPlainHost() {
  const { createServer } = await import('node:http');
  const { readFile } = await import('node:fs/promises');
  const { extname, normalize, sep } = await import('node:path');
  const root = resolve(DIST_DIR);
  const server = createServer(async (req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://host').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(resolve(root, `.${path}`));
    if (!file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': MIME[extname(file)] || 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    stop: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}
