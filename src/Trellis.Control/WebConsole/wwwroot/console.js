// The Trellis web console: one page over the REST admin API (/api/v1), which it calls with the
// session cookie and, on every change, the session's CSRF token in X-Trellis-Csrf. No framework,
// nothing fetched from elsewhere; data reaches the page only as text nodes, never as HTML.
'use strict';

const csrfHeader = 'X-Trellis-Csrf';
let session = null;

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === false || value === null || value === undefined) {
      continue;
    }
    if (name.startsWith('on')) {
      node.addEventListener(name.slice(2), value);
    } else {
      node.setAttribute(name, value === true ? '' : value);
    }
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : String(child));
    }
  }
  return node;
}

function notice(text, ok) {
  const box = document.getElementById('notice');
  box.textContent = text ?? '';
  box.className = ok ? 'ok' : '';
  box.hidden = !text;
}

// One call to the admin API; throws an Error carrying the server's message and status.
async function api(method, path, body, contentType) {
  const headers = {};
  if (method !== 'GET') {
    headers[csrfHeader] = session.csrf;
  }
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = contentType ?? 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch('/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin' });
  if (response.status === 401) {
    showSignedOut();
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = new Error(json?.error ?? `${method} ${path}: HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return json;
}

function moment(iso) {
  return new Date(iso).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
}

// How long ago a past moment was, in words.
function when(iso) {
  if (!iso) {
    return 'never';
  }
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) {
    return 'just now';
  }
  if (seconds < 3600) {
    return `${Math.round(seconds / 60)} min ago`;
  }
  if (seconds < 86400) {
    return `${Math.round(seconds / 3600)} h ago`;
  }
  return moment(iso);
}

// Runs an admin action, reports its outcome, and redraws the page.
async function act(description, action) {
  try {
    await action();
    notice(description, true);
  } catch (error) {
    notice(error.message);
  }
  await show(currentPage());
}

// The machines page's state: every node by id (kept current by the live stream), and what the
// person asked to see. Only one page of rows is in the document at a time, so 5,000 nodes stay quick.
const machines = { nodes: new Map(), query: '', status: 'all', page: 0, loaded: false };
const pageSize = 100;

function statusOf(node) {
  return node.status === 'pending' ? 'pending' : node.expired ? 'expired' : node.online ? 'online' : 'offline';
}

// Days until a moment, for key expiry: a warning once it is near.
function expiryCell(node) {
  if (!node.keyExpiry) {
    return el('span', { class: 'muted' }, 'never');
  }
  const days = (new Date(node.keyExpiry).getTime() - Date.now()) / 86400000;
  const date = new Date(node.keyExpiry).toISOString().slice(0, 10);
  return days <= 0 ? el('span', { class: 'warn' }, `expired ${date}`)
    : days < 14 ? el('span', { class: 'warn' }, `${date} (in ${Math.ceil(days)} d)`)
    : date;
}

function machineRow(node) {
  const owner = node.tags.length > 0 ? node.tags.join(', ') : (node.user ?? '');
  const addresses = [node.ipv4, node.ipv6].filter(Boolean);
  const state = statusOf(node);
  const status = state === 'pending' ? el('span', { class: 'muted' }, 'waiting for approval')
    : state === 'expired' ? el('span', { class: 'muted' }, 'key expired')
    : state === 'online' ? el('span', { class: 'online' }, 'online')
    : el('span', { class: 'muted' }, 'last seen ' + when(node.lastSeen));
  const routes = node.advertisedRoutes.map(prefix => {
    const approved = node.approvedRoutes.includes(prefix);
    return el('span', { class: approved ? 'route approved' : 'route pending', 'data-prefix': prefix },
      prefix, approved ? ' (approved)' : ' (not approved) ',
      !approved && session.admin && el('button', {
        type: 'button', 'data-action': 'approve-route', 'data-prefix': prefix, 'aria-label': `Approve ${prefix} on ${node.name}`,
        onclick: () => act(`approved ${prefix} on ${node.name}`, () => api('POST', `/nodes/${node.id}/routes/approve`, { prefixes: [prefix] })),
      }, 'Approve'));
  });
  const reach = [
    node.homeRelay > 0 && el('div', {}, `relay ${node.homeRelay}`),
    ...node.endpoints.slice(0, 3).map(e => el('div', { class: 'endpoint' }, e)),
    node.endpoints.length > 3 && el('div', { class: 'muted' }, `and ${node.endpoints.length - 3} more`),
  ].filter(Boolean);
  const actions = session.admin && el('td', { class: 'actions', 'data-label': 'Actions' },
    node.status === 'pending' && el('button', {
      type: 'button', 'data-action': 'approve-node', 'aria-label': `Approve node ${node.name}`,
      onclick: () => act(`approved ${node.name}`, () => api('POST', `/nodes/${node.id}/approve`)),
    }, 'Approve node'),
    el('button', {
      type: 'button', 'data-action': 'rename', 'aria-label': `Rename ${node.name}`,
      onclick: () => {
        const name = prompt(`New name for ${node.name}`, node.name);
        if (name && name !== node.name) {
          act(`renamed ${node.name} to ${name}`, () => api('POST', `/nodes/${node.id}/rename`, { name }));
        }
      },
    }, 'Rename'),
    el('button', {
      type: 'button', 'data-action': 'tags', 'aria-label': `Tags of ${node.name}`,
      onclick: () => {
        const text = prompt(`Tags for ${node.name}, comma-separated (tag:server, ...); they replace its owner`, node.tags.join(', '));
        if (text !== null) {
          const tags = text.split(',').map(t => t.trim()).filter(Boolean);
          act(`tagged ${node.name}`, () => api('POST', `/nodes/${node.id}/tags`, { tags }));
        }
      },
    }, 'Tags'),
    el('button', {
      type: 'button', class: 'danger', 'data-action': 'delete', 'aria-label': `Delete ${node.name}`,
      onclick: () => {
        if (confirm(`Delete ${node.name}? It leaves the mesh at once and must register again.`)) {
          act(`deleted ${node.name}`, () => api('DELETE', `/nodes/${node.id}`));
        }
      },
    }, 'Delete'));
  return el('tr', { 'data-node': node.name, 'data-id': node.id, 'data-status': state },
    el('td', { 'data-label': 'Name' }, el('strong', {}, node.name), node.wireGuardGateway && el('div', { class: 'muted' }, 'WireGuard gateway'),
      node.gateway && el('div', { class: 'muted' }, 'plain WireGuard peer')),
    el('td', { 'data-label': 'Owner' }, owner),
    el('td', { 'data-label': 'Addresses' }, addresses.map(a => el('div', {}, a))),
    el('td', { class: 'status', 'data-label': 'Status' }, status),
    el('td', { class: 'version', 'data-label': 'Version' }, node.version ?? el('span', { class: 'muted' }, 'unknown')),
    el('td', { 'data-label': 'Relay, endpoints' }, reach.length > 0 ? reach : el('span', { class: 'muted' }, 'none')),
    el('td', { 'data-label': 'Routes' }, routes.length > 0 ? routes : el('span', { class: 'muted' }, 'none')),
    el('td', { 'data-label': 'Key expires' }, expiryCell(node)),
    actions);
}

// The nodes that pass the search and the status filter, by name.
function shownMachines() {
  const query = machines.query.trim().toLowerCase();
  const matches = node => !query || [node.name, node.user, node.ipv4, node.ipv6, node.version, ...node.tags, ...node.advertisedRoutes]
    .some(field => field && field.toLowerCase().includes(query));
  return [...machines.nodes.values()]
    .filter(node => (machines.status === 'all' || statusOf(node) === machines.status) && matches(node))
    .sort((a, b) => a.name.localeCompare(b.name));
}

// Redraws the rows and the pager from machines; keeps the search box (and its focus) as it is.
function drawMachines() {
  const body = document.querySelector('#machines tbody');
  if (!body) {
    return;
  }
  const shown = shownMachines();
  const pages = Math.max(1, Math.ceil(shown.length / pageSize));
  machines.page = Math.min(machines.page, pages - 1);
  const first = machines.page * pageSize;
  body.replaceChildren(...shown.slice(first, first + pageSize).map(machineRow));
  const online = [...machines.nodes.values()].filter(n => statusOf(n) === 'online').length;
  document.getElementById('machine-count').textContent = shown.length === 0
    ? `No machines match (${machines.nodes.size} in all, ${online} online).`
    : `${first + 1}–${Math.min(first + pageSize, shown.length)} of ${shown.length}` +
      (shown.length === machines.nodes.size ? '' : ` (of ${machines.nodes.size})`) + `; ${online} online.`;
  document.getElementById('prev-page').disabled = machines.page === 0;
  document.getElementById('next-page').disabled = machines.page >= pages - 1;
}

// One node changed: its row is replaced where it stands, or the page redrawn when rows come or go.
function machineChanged(node) {
  const known = machines.nodes.has(node.id);
  machines.nodes.set(node.id, node);
  const row = document.querySelector(`#machines tr[data-id="${node.id}"]`);
  if (known && row && shownMachines().some(n => n.id === node.id)) {
    row.replaceWith(machineRow(node));
  } else {
    drawMachines();
  }
}

function machineRemoved(id) {
  if (machines.nodes.delete(id)) {
    drawMachines();
  }
}

async function loadMachines() {
  const nodes = await api('GET', '/nodes');
  machines.nodes = new Map(nodes.map(n => [n.id, n]));
  machines.loaded = true;
  drawMachines();
}

// The live stream: node changes as they happen. On every (re)connection the list is read afresh,
// so nothing missed while disconnected stays wrong.
let live = null;

function setLive(state) {
  const badge = document.getElementById('live');
  badge.dataset.state = state;
  badge.textContent = state === 'live' ? 'Live' : 'Reconnecting…';
}

function startLive() {
  stopLive();
  live = new EventSource('events');
  let reconnected = false;
  live.addEventListener('ready', () => {
    setLive('live');
    const again = reconnected;
    reconnected = true;
    if (again && currentPage() === 'machines') {
      loadMachines().catch(error => notice(error.message));
    }
  });
  live.addEventListener('node', event => machineChanged(JSON.parse(event.data)));
  live.addEventListener('removed', event => machineRemoved(JSON.parse(event.data).id));
  live.addEventListener('error', () => {
    setLive('connecting');
    if (live.readyState === EventSource.CLOSED) {
      // Refused (the session ended): the next call to the API shows the sign-in page.
      live = null;
      api('GET', '/nodes').catch(() => {});
    }
  });
}

function stopLive() {
  live?.close();
  live = null;
  document.getElementById('live').dataset.state = 'off';
}

const pages = {
  async machines(page) {
    const search = el('input', {
      type: 'search', id: 'machine-search', value: machines.query, placeholder: 'name, user, tag, address, version',
      oninput: event => {
        machines.query = event.target.value;
        machines.page = 0;
        drawMachines();
      },
    });
    const filter = el('select', {
      id: 'machine-status',
      onchange: event => {
        machines.status = event.target.value;
        machines.page = 0;
        drawMachines();
      },
    }, ['all', 'online', 'offline', 'pending', 'expired'].map(v => el('option', { value: v, selected: v === machines.status }, v)));
    page.append(el('h2', {}, session.admin ? 'Machines' : 'Your devices'),
      el('form', { class: 'inline', role: 'search', onsubmit: event => event.preventDefault() },
        el('label', {}, 'Search', search),
        el('label', {}, 'Status', filter)),
      el('div', { class: 'table-wrap' }, el('table', { id: 'machines' },
        el('thead', {}, el('tr', {}, ['Name', 'Owner', 'Addresses', 'Status', 'Version', 'Relay, endpoints', 'Routes', 'Key expires', session.admin && 'Actions']
          .filter(Boolean).map(h => el('th', { scope: 'col' }, h)))),
        el('tbody', {}))),
      el('nav', { class: 'pager', 'aria-label': 'Machine pages' },
        el('button', { type: 'button', id: 'prev-page', onclick: () => { machines.page--; drawMachines(); } }, 'Previous'),
        el('span', { id: 'machine-count', role: 'status' }),
        el('button', { type: 'button', id: 'next-page', onclick: () => { machines.page++; drawMachines(); } }, 'Next')));
    const nodes = await api('GET', '/nodes');
    machines.nodes = new Map(nodes.map(n => [n.id, n]));
    machines.loaded = true;
    return drawMachines; // once the section is in the document
  },

  async users(page) {
    const users = await api('GET', '/users');
    page.append(el('h2', {}, 'Users'), el('div', { class: 'table-wrap' }, el('table', { id: 'users' },
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Name'), el('th', { scope: 'col' }, 'Created'))),
      el('tbody', {}, users.map(u => el('tr', { 'data-user': u.name }, el('td', {}, u.name), el('td', {}, when(u.createdAt))))))));
  },

  async keys(page) {
    const keys = await api('GET', '/authkeys');
    const form = el('form', { class: 'inline', id: 'new-key' },
      el('label', {}, 'User', el('input', { name: 'user', value: session.user, autocomplete: 'off' })),
      el('label', {}, 'Tags (instead of a user)', el('input', { name: 'tags', placeholder: 'tag:server', autocomplete: 'off' })),
      el('label', {}, 'Expires in', el('input', { name: 'expiration', value: '24h', size: 6 })),
      el('label', {}, el('span', {}, 'Reusable'), el('input', { type: 'checkbox', name: 'reusable' })),
      el('label', {}, el('span', {}, 'Ephemeral'), el('input', { type: 'checkbox', name: 'ephemeral' })),
      el('button', { type: 'submit' }, 'Create key'));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      const data = new FormData(form);
      const tags = String(data.get('tags')).split(',').map(t => t.trim()).filter(Boolean);
      try {
        const created = await api('POST', '/authkeys', {
          user: tags.length > 0 ? null : String(data.get('user')).trim() || null,
          tags: tags.length > 0 ? tags : null,
          reusable: data.get('reusable') === 'on',
          ephemeral: data.get('ephemeral') === 'on',
          expiration: String(data.get('expiration')).trim() || null,
        });
        await show('keys');
        notice(null);
        document.getElementById('page').prepend(el('div', { id: 'created-key' },
          el('p', {}, 'The new key, shown this once: copy it now. The server keeps only its hash.'),
          el('p', { class: 'secret', id: 'key-text' }, created.key)));
      } catch (error) {
        notice(error.message);
      }
    });
    page.append(el('h2', {}, 'Auth keys'), form, el('div', { class: 'table-wrap' }, el('table', { id: 'keys' },
      el('thead', {}, el('tr', {}, ['Key', 'Owner', 'Kind', 'Uses', 'State', 'Expires', 'Actions'].map(h => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, keys.map(k => el('tr', { 'data-key': k.prefix },
        el('td', { 'data-label': 'Key' }, el('code', {}, k.prefix)),
        el('td', { 'data-label': 'Owner' }, k.tags.length > 0 ? k.tags.join(', ') : (k.user ?? '')),
        el('td', { 'data-label': 'Kind' }, [k.reusable ? 'reusable' : 'single use', k.ephemeral && 'ephemeral'].filter(Boolean).join(', ')),
        el('td', { 'data-label': 'Uses' }, k.uses),
        el('td', { 'data-label': 'State' }, k.revoked ? 'revoked' : k.usable ? 'usable' : 'spent or expired'),
        el('td', { 'data-label': 'Expires' }, k.expiresAt ? moment(k.expiresAt) : 'never'),
        el('td', { class: 'actions', 'data-label': 'Actions' }, k.usable && el('button', {
          type: 'button', class: 'danger', 'data-action': 'revoke', 'aria-label': `Revoke ${k.prefix}`,
          onclick: () => {
            if (confirm(`Revoke ${k.prefix}? Nodes it registered stay.`)) {
              act(`revoked ${k.prefix}`, () => api('POST', `/authkeys/${encodeURIComponent(k.prefix)}/expire`));
            }
          },
        }, 'Revoke'))))))));
  },

  async apikeys(page) {
    const keys = await api('GET', '/apikeys');
    const form = el('form', { class: 'inline', id: 'new-api-key' },
      el('label', {}, 'Expires in', el('input', { name: 'expiration', value: '90d', size: 6 })),
      el('button', { type: 'submit' }, 'Create API key'));
    form.addEventListener('submit', async event => {
      event.preventDefault();
      try {
        const created = await api('POST', '/apikeys', { expiration: String(new FormData(form).get('expiration')).trim() || null });
        await show('apikeys');
        notice(null);
        document.getElementById('page').prepend(el('div', { id: 'created-api-key' },
          el('p', {}, 'The new API key, shown this once: copy it now. The server keeps only its hash.'),
          el('p', { class: 'secret', id: 'api-key-text' }, created.key)));
      } catch (error) {
        notice(error.message);
      }
    });
    page.append(el('h2', {}, 'API keys'),
      el('p', { class: 'muted' }, 'An API key is an admin: the CLI and scripts send it, and it signs in to this console.'),
      form, el('div', { class: 'table-wrap' }, el('table', { id: 'api-keys' },
        el('thead', {}, el('tr', {}, ['Key', 'Created', 'Last used', 'Expires', 'Actions'].map(h => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, keys.map(k => el('tr', { 'data-key': k.prefix },
          el('td', { 'data-label': 'Key' }, el('code', {}, k.prefix)),
          el('td', { 'data-label': 'Created' }, moment(k.createdAt)),
          el('td', { 'data-label': 'Last used' }, when(k.lastUsedAt)),
          el('td', { 'data-label': 'Expires' }, k.expired ? 'expired' : k.expiresAt ? moment(k.expiresAt) : 'never'),
          el('td', { class: 'actions', 'data-label': 'Actions' }, !k.expired && el('button', {
            type: 'button', class: 'danger', 'data-action': 'revoke-api-key', 'aria-label': `Revoke API key ${k.prefix}`,
            onclick: () => {
              if (confirm(`Revoke API key ${k.prefix}? Whatever uses it, this console included, loses access at once.`)) {
                act(`revoked API key ${k.prefix}`, () => api('POST', `/apikeys/${encodeURIComponent(k.prefix)}/expire`));
              }
            },
          }, 'Revoke'))))))));
  },

  async server(page) {
    const info = await api('GET', '/server');
    const days = Math.floor(info.uptimeSeconds / 86400);
    const hours = Math.floor(info.uptimeSeconds % 86400 / 3600);
    const minutes = Math.floor(info.uptimeSeconds % 3600 / 60);
    const rows = [
      ['Version', `${info.version} (${info.commit.slice(0, 12)})`],
      ['Runtime', info.runtime],
      ['Up since', `${moment(info.startedAt)} (${days > 0 ? days + ' d ' : ''}${hours} h ${minutes} min)`],
      ['Nodes', `${info.nodes} in the mesh, ${info.nodesOnline} online`],
      ['Database', info.database === 'postgresql' ? 'PostgreSQL' : 'SQLite'],
      ['Relay', info.relay ? `embedded relay${info.stunPort ? `, STUN on UDP ${info.stunPort}` : ''}` : 'none on this server'],
      ['Access policy', info.policySource === 'file' ? `file ${info.policyFile}` : info.policySource === 'database' ? 'set through the API (database)' : 'none: every node reaches every other'],
      ['Single sign-on', info.singleSignOn ? 'on' : 'off (API keys only)'],
    ];
    page.append(el('h2', {}, 'Server'), el('table', { id: 'server', class: 'facts' },
      el('tbody', {}, rows.map(([name, value]) => el('tr', { 'data-fact': name }, el('th', { scope: 'row' }, name), el('td', {}, value))))));
  },

  async policy(page) {
    let current = null;
    try {
      current = await api('GET', '/policy');
    } catch (error) {
      if (error.status !== 404) {
        throw error;
      }
    }
    const fromFile = current?.source === 'file';
    const text = el('textarea', { id: 'policy-text', spellcheck: 'false', 'aria-label': 'Access policy (HuJSON)', readonly: fromFile },
      current?.policy ?? '{\n  "acls": [\n    { "action": "accept", "src": ["*"], "dst": ["*:*"] },\n  ],\n}\n');
    const message = el('div', { id: 'policy-message', class: 'message', role: 'status' });
    const say = (ok, words) => {
      message.className = 'message ' + (ok ? 'ok' : 'error');
      message.textContent = words;
    };
    const about = current === null ? 'No policy is set: every node can reach every other.'
      : fromFile ? `Read from ${current.path}; edit that file on the server (it is reloaded when it changes).`
      : `In force: ${current.rules ?? '?'} rules, set by ${current.updatedBy ?? 'unknown'} ${when(current.updatedAt)}.`;
    page.append(el('h2', {}, 'Access policy'), el('p', { id: 'policy-about' }, about), text,
      el('p', { class: 'actions' },
        el('button', {
          type: 'button', id: 'policy-check',
          onclick: async () => {
            try {
              const checked = await api('POST', '/policy/check', text.value, 'text/plain; charset=utf-8');
              say(true, `The policy compiles and its tests pass (${checked.rules ?? '?'} rules); it is not saved yet.`);
            } catch (error) {
              say(false, error.message);
            }
          },
        }, 'Check'),
        !fromFile && el('button', {
          type: 'button', id: 'policy-save',
          onclick: async () => {
            try {
              const saved = await api('PUT', '/policy', text.value, 'text/plain; charset=utf-8');
              say(true, `Saved: ${saved.rules ?? '?'} rules in force.`);
            } catch (error) {
              say(false, error.message);
            }
          },
        }, 'Save')),
      message);
  },
};

function currentPage() {
  const wanted = location.hash.slice(1);
  return wanted in pages && (session.admin || wanted === 'machines') ? wanted : 'machines';
}

// Draws a page. Two may be in flight (an action's redraw, then a click elsewhere): the one asked for
// last is shown, whichever answer comes back first.
let showing = 0;

async function show(name) {
  const mine = ++showing;
  const fresh = el('section', { id: 'page', 'data-page': name, 'aria-busy': 'true' });
  let after = null;
  try {
    after = await pages[name](fresh);
  } catch (error) {
    fresh.append(el('p', { class: 'message error' }, error.message));
  }
  if (mine !== showing) {
    return;
  }
  document.getElementById('page').replaceWith(fresh);
  after?.();
  fresh.removeAttribute('aria-busy');
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', false);
    if (link.dataset.page === name) {
      link.setAttribute('aria-current', 'page');
    }
  }
}

function showSignedOut() {
  session = null;
  stopLive();
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  document.getElementById('page').replaceChildren();
  document.getElementById('signed-out').hidden = false;
  fetch('signin-methods', { credentials: 'same-origin' }).then(r => r.json()).then(methods => {
    document.getElementById('sso-sign-in').hidden = !methods.singleSignOn;
  }).catch(() => {});
}

// Sign-in with an admin API key: sent once, then dropped from the page (the cookie holds a session id, never the key).
document.getElementById('key-sign-in').addEventListener('submit', async event => {
  event.preventDefault();
  const input = document.getElementById('api-key');
  const key = input.value.trim();
  input.value = '';
  const message = document.getElementById('key-message');
  message.textContent = '';
  const response = await fetch('login/key', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key }), credentials: 'same-origin',
  });
  if (!response.ok) {
    message.textContent = (await response.json().catch(() => null))?.error ?? `HTTP ${response.status}`;
    input.focus();
    return;
  }
  await start();
});

async function start() {
  const response = await fetch('/admin/session', { credentials: 'same-origin' });
  if (!response.ok) {
    showSignedOut();
    return;
  }
  session = await response.json();
  document.getElementById('signed-out').hidden = true;
  for (const link of document.querySelectorAll('#nav a[data-admin]')) {
    link.hidden = !session.admin;
  }
  document.querySelector('#nav a[data-page=machines]').textContent = session.admin ? 'Machines' : 'Your devices';
  document.getElementById('nav').hidden = false;
  document.getElementById('who-name').textContent = `${session.email ?? session.user}${session.admin ? ' (admin)' : ''}`;
  document.getElementById('who').hidden = false;
  startLive();
  await show(currentPage());
}

window.addEventListener('hashchange', () => {
  if (session) {
    notice(null);
    show(currentPage());
  }
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await fetch('/admin/logout', { method: 'POST', headers: { [csrfHeader]: session?.csrf ?? '' }, credentials: 'same-origin' });
  showSignedOut();
});

start();
