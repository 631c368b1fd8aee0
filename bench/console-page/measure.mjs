// Measures the console's machines page against a running server: the list's payload, and the time
// from navigation to a usable page (rows drawn, search box live) in the system's Chromium.
// Usage: NODE_PATH=tests/Trellis.Lab.Tests/bin/Debug/net10.0/Sso/oidc/node_modules \
//          node bench/console-page/measure.mjs SERVER-URL API-KEY [RUNS]
// Prints one JSON line: nodes, payload bytes (raw, gzip), and per-run and median milliseconds.
import { gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const [server, key, runsText] = process.argv.slice(2);
const runs = Number(runsText ?? 5);

const listed = await fetch(server + '/api/v1/nodes', { headers: { Authorization: 'Bearer ' + key } });
const body = Buffer.from(await listed.arrayBuffer());
const nodes = JSON.parse(body.toString()).length;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
page.setDefaultTimeout(120_000);
await page.goto(server + '/admin/', { waitUntil: 'domcontentloaded' });
await page.locator('#api-key').fill(key);
await page.keyboard.press('Enter');
await page.locator('#who:not([hidden])').waitFor();

const usable = [];
const search = [];
for (let i = 0; i < runs; i++) {
  await page.goto(server + '/admin/#machines', { waitUntil: 'commit' });
  await page.reload({ waitUntil: 'commit' });
  await page.locator('#page[data-page=machines]:not([aria-busy]) #machines tbody tr').first().waitFor();
  usable.push(await page.evaluate(() => performance.now()));
  // Typing in the search box: the time to filter every node and redraw the page of rows.
  search.push(await page.evaluate(() => {
    const box = document.getElementById('machine-search');
    const started = performance.now();
    box.value = 'node-049';
    box.dispatchEvent(new Event('input'));
    document.querySelectorAll('#machines tbody tr').length;
    return performance.now() - started;
  }));
}
await browser.close();

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
console.log(JSON.stringify({
  nodes,
  payloadBytes: body.length,
  payloadGzipBytes: gzipSync(body).length,
  usableMs: usable.map(Math.round),
  usableMedianMs: Math.round(median(usable)),
  searchMs: search.map(v => Math.round(v * 10) / 10),
  searchMedianMs: Math.round(median(search) * 10) / 10,
}));
