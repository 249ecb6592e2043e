import { startServer, launchBrowser } from './harness.mjs';
const server = await startServer();
const browser = await launchBrowser();
try {
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => document.body.dataset.ready === '1');
  for (const id of process.argv.slice(2)) {
    await page.selectOption('#preset', id);
    await page.click('#apply-preset');
    await page.click('#run');
    await page.waitForFunction(() => !/exit/.test(document.querySelector('#state').textContent), null, { timeout: 5000 });
    await page.waitForFunction(() => /exit|error|stopped/.test(document.querySelector('#state').textContent), null, { timeout: 120000 });
    await page.waitForTimeout(300);
    const r = await page.evaluate(() => window.tunevmPage.lastReport());
    const ids = await page.locator('#advisor .diagnosis').evaluateAll((ds) => ds.map((d) => d.dataset.id + ':' + d.querySelector('.title').textContent));
    const q = r.jit.compile_ns;
    console.log(id, r.instructions, 'wall', (r.wall_ns / 1e6).toFixed(0), 'ms share', (q.total / r.wall_ns).toFixed(3), 'total', (q.total/1e6).toFixed(0), 'units', r.jit.units_compiled, 'p50', q.p50, 'p99', q.p99, 'waits', r.jit.compile_waits, 'evict', r.code_cache.evictions, 'code', r.memory.code_bytes, 'tlb', r.tlb.hit_rate, '=>', JSON.stringify(ids));
  }
} finally { await browser.close(); await server.stop(); }
