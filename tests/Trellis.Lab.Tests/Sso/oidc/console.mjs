// Drives the web console in the system's Chromium, as an admin or a member would.
// Usage: node console.mjs STEP SERVER-URL PROFILE-DIR SHOTS-DIR [ARGS...]; prints one JSON line with what it saw.
// The profile directory keeps the session cookie from one step to the next, as a browser would.
// Steps:
//   admin-routes LOGIN NODE PREFIX KEY-USER: sign in, approve NODE's advertised PREFIX, create an auth key for KEY-USER,
//                create a second one and revoke it
//   admin-policy LOGIN NODE BAD-FILE FAILING-FILE GOOD-FILE: see NODE, save a broken policy, one whose tests fail, then
//                a valid one, try a change without the CSRF token, sign out
//   member LOGIN: sign in, list the devices shown, try admin calls through the API
//   api-key KEY NODE: sign in with an admin API key using the keyboard alone, watch NODE online on the machines page;
//                prints "watching" and waits (no reload) for NODE to show offline; then the API keys and server
//                pages and the machines page on a phone-sized screen
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [step, server, profile, shots, ...args] = process.argv.slice(2);
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1100, height: 620 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const page = context.pages()[0] ?? await context.newPage();
// Under the lab's 180 s limit for the whole script (SsoLab.BrowserTimeout), and not far under it:
// on busy shared cores a step can take minutes, and a step that times out here says which one.
page.setDefaultTimeout(150_000);
// Confirmations (delete, revoke) are accepted, as the person clicking meant them.
page.on('dialog', dialog => dialog.accept());

async function signIn(login) {
  await page.goto(server + '/admin/', { waitUntil: 'domcontentloaded' });
  await page.locator('#who:not([hidden]), #signed-out:not([hidden])').first().waitFor();
  if (await page.locator('#signed-out').isVisible()) {
    await page.click('#sign-in');
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', 'any-password');
    await page.click('[type=submit]');
    await page.waitForURL(url => url.pathname === '/admin/');
  }
  await page.locator('#who').waitFor();
}

async function open(name) {
  await page.goto(`${server}/admin/#${name}`, { waitUntil: 'domcontentloaded' });
  await page.locator(`#page[data-page=${name}]:not([aria-busy])`).waitFor();
}

// A change sent as another site's page could send it: the cookie rides along, the CSRF token does not.
function withoutCsrf(method, path, body) {
  return page.evaluate(async ([m, p, b]) => (await fetch(p, { method: m, headers: { 'Content-Type': 'application/json' }, body: b })).status, [method, path, body]);
}

// A change with the session's own CSRF token, as the page's script sends it.
function withCsrf(method, path, body) {
  return page.evaluate(async ([m, p, b]) => {
    const session = await (await fetch('/admin/session')).json();
    return (await fetch(p, { method: m, headers: { 'Content-Type': 'application/json', 'X-Trellis-Csrf': session.csrf }, body: b })).status;
  }, [method, path, body]);
}

const shot = name => page.screenshot({ path: join(shots, name), mask: [page.locator('#key-text')] });
const result = {};
try {
  if (step === 'admin-routes') {
    const [login, node, prefix, keyUser] = args;
    await signIn(login);
    await open('machines');
    const row = page.locator(`tr[data-node="${node}"]`);
    await row.waitFor();
    await shot('routes.png');
    await row.locator(`button[data-action=approve-route][data-prefix="${prefix}"]`).click();
    await page.locator(`tr[data-node="${node}"] .route.approved[data-prefix="${prefix}"]`).waitFor();
    result.approvedShown = true;

    await open('keys');
    await page.fill('#new-key input[name=user]', keyUser);
    await page.click('#new-key [type=submit]');
    result.key = (await page.locator('#key-text').innerText()).trim();

    // A second key, revoked at once: nothing may register with it.
    await page.click('#new-key [type=submit]');
    await page.waitForFunction(first => (document.getElementById('key-text')?.innerText.trim() ?? first) !== first, result.key);
    result.revokedKey = (await page.locator('#key-text').innerText()).trim();
    const revokedPrefix = result.revokedKey.split('-')[2];
    await page.locator(`tr[data-key="${revokedPrefix}"] button[data-action=revoke]`).click();
    await page.locator(`tr[data-key="${revokedPrefix}"] td[data-label=State]`, { hasText: 'revoked' }).waitFor();
    result.revokedState = await page.locator(`tr[data-key="${revokedPrefix}"] td[data-label=State]`).innerText();
    await shot('keys.png');
  } else if (step === 'admin-policy') {
    const [login, node, badFile, failingFile, goodFile] = args;
    await signIn(login);
    await open('machines');
    await page.locator(`tr[data-node="${node}"]`).waitFor();
    result.machines = await page.locator('#machines tbody tr').evaluateAll(rows => rows.map(r => r.dataset.node));

    await open('users');
    result.users = await page.locator('#users tbody tr').evaluateAll(rows => rows.map(r => r.dataset.user));
    await shot('users.png');

    await open('policy');
    await page.fill('#policy-text', readFileSync(badFile, 'utf8'));
    await page.click('#policy-save');
    await page.locator('#policy-message.error').waitFor();
    result.badMessage = await page.locator('#policy-message').innerText();
    await page.fill('#policy-text', readFileSync(failingFile, 'utf8'));
    await page.click('#policy-save');
    await page.locator('#policy-message.error').waitFor();
    await page.locator('#policy-message:has-text("test")').waitFor();
    result.failingMessage = await page.locator('#policy-message').innerText();
    result.policyAfterRefusals = await page.evaluate(async () => (await (await fetch('/api/v1/policy')).json()).policy);
    await shot('policy.png');
    await page.fill('#policy-text', readFileSync(goodFile, 'utf8'));
    await page.click('#policy-save');
    await page.locator('#policy-message.ok').waitFor();
    result.goodMessage = await page.locator('#policy-message').innerText();

    result.withoutCsrf = await withoutCsrf('POST', '/api/v1/users', '{"name":"mallory"}');
    await page.click('#sign-out');
    await page.locator('#signed-out:not([hidden])').waitFor();
    result.afterSignOut = await page.evaluate(async () => (await fetch('/api/v1/users')).status);
  } else if (step === 'member') {
    const [login] = args;
    await signIn(login);
    await open('machines');
    await page.locator('#machines').waitFor();
    result.heading = await page.locator('#page h2').innerText();
    result.machines = await page.locator('#machines tbody tr').evaluateAll(rows => rows.map(r => r.dataset.node));
    result.adminLinksShown = await page.locator('#nav a[data-admin]:not([hidden])').count();
    result.actionButtons = await page.locator('#machines button').count();
    await shot('member.png');
    result.listUsers = await page.evaluate(async () => (await fetch('/api/v1/users')).status);
    result.createKey = await withCsrf('POST', '/api/v1/authkeys', `{"user":"${login}"}`);
  } else if (step === 'api-key') {
    const [key, node] = args;
    await page.goto(server + '/admin/', { waitUntil: 'domcontentloaded' });
    await page.locator('#signed-out:not([hidden])').waitFor();
    // By keyboard: Tab to the labelled field, type, Enter.
    for (let i = 0; i < 10 && await page.evaluate(() => document.activeElement?.id) !== 'api-key'; i++) {
      await page.keyboard.press('Tab');
    }
    result.keyFieldByTab = await page.evaluate(() => document.activeElement?.id === 'api-key');
    await page.getByLabel('Admin API key').fill(key);
    await page.keyboard.press('Enter');
    await page.locator('#who:not([hidden])').waitFor();
    result.who = await page.locator('#who-name').innerText();
    result.keyInPage = await page.evaluate(k => document.documentElement.outerHTML.includes(k) || localStorage.length + sessionStorage.length > 0
      || document.cookie.includes(k), key);
    await page.locator(`#page[data-page=machines]:not([aria-busy]) tr[data-node="${node}"][data-status=online]`).waitFor();
    await page.locator('#live[data-state=live]').waitFor();
    await page.evaluate(() => { window.trellisNotReloaded = true; });
    console.log('watching');
    await page.locator(`tr[data-node="${node}"][data-status=offline]`).waitFor({ timeout: 120_000 });
    result.offlineShown = true;
    result.notReloaded = await page.evaluate(() => window.trellisNotReloaded === true);
    await shot('machines.png');

    await page.fill('#machine-search', node);
    result.searched = await page.locator('#machines tbody tr').evaluateAll(rows => rows.map(r => r.dataset.node));
    await page.fill('#machine-search', '');

    await open('apikeys');
    result.apiKeys = await page.locator('#api-keys tbody tr').count();
    await shot('apikeys.png');
    await open('server');
    result.server = Object.fromEntries(await page.locator('#server tr').evaluateAll(rows => rows.map(r => [r.dataset.fact, r.querySelector('td').innerText])));
    await shot('server.png');

    await page.setViewportSize({ width: 390, height: 844 });
    await open('machines');
    await page.locator(`tr[data-node="${node}"]`).waitFor();
    result.phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    await shot('phone.png');
  } else {
    throw new Error(`unknown step ${step}`);
  }
} finally {
  await context.close();
}
console.log(JSON.stringify(result));
