// Drives the web console in the system's Chromium, as an admin or a member would.
// Usage: node console.mjs STEP SERVER-URL PROFILE-DIR SHOTS-DIR [ARGS...]; prints one JSON line with what it saw.
// The profile directory keeps the session cookie from one step to the next, as a browser would.
// Steps:
//   admin-routes LOGIN NODE PREFIX KEY-USER: sign in, approve NODE's advertised PREFIX, create an auth key for KEY-USER
//   admin-policy LOGIN NODE BAD-FILE GOOD-FILE: see NODE, save a broken policy then a valid one, try a change without
//                the CSRF token, sign out
//   member LOGIN: sign in, list the devices shown, try admin calls through the API
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
page.setDefaultTimeout(60_000);
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
    await shot('machines.png');
    await row.locator(`button[data-action=approve-route][data-prefix="${prefix}"]`).click();
    await page.locator(`tr[data-node="${node}"] .route.approved[data-prefix="${prefix}"]`).waitFor();
    result.approvedShown = true;

    await open('keys');
    await page.fill('#new-key input[name=user]', keyUser);
    await page.click('#new-key [type=submit]');
    result.key = (await page.locator('#key-text').innerText()).trim();
    await shot('keys.png');
  } else if (step === 'admin-policy') {
    const [login, node, badFile, goodFile] = args;
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
  } else {
    throw new Error(`unknown step ${step}`);
  }
} finally {
  await context.close();
}
console.log(JSON.stringify(result));
