// Signs in at a login URL with the system's Chromium, as a person would in a browser.
// Usage: node signin.mjs URL LOGIN PASSWORD; prints one JSON line { "url", "status", "text", "callback" }:
// the page it ends on, and the URL the provider sent the browser back to.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, login, password] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'trellis-sso-chromium-'));
// A fresh profile each time: no cookie of an earlier sign-in carries over.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  // Root needs --no-sandbox; the rest keep Chromium from calling home on a closed network.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  // Under the lab's 180 s limit for the whole script (SsoLab.BrowserTimeout), and not far under it:
  // on busy shared cores a step can take minutes, and a step that times out here says which one.
  page.setDefaultTimeout(150_000);
  let callback = null;
  page.on('request', request => {
    if (new URL(request.url()).pathname === '/oidc/callback') {
      callback = request.url();
    }
  });
  let response = await page.goto(url, { waitUntil: 'domcontentloaded' });
  if (await page.locator('input[name=login]').count() > 0) {
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', password);
    // The provider redirects back to the server, whose page ends the sign-in.
    [response] = await Promise.all([
      page.waitForResponse(r => new URL(r.url()).pathname === '/oidc/callback'),
      page.click('[type=submit]'),
    ]);
    await page.waitForLoadState('domcontentloaded');
  }
  const text = await page.locator('body').innerText();
  console.log(JSON.stringify({ url: page.url(), status: response?.status() ?? 0, text, callback }));
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
