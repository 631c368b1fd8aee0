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

function machineRow(node) {
  const owner = node.tags.length > 0 ? node.tags.join(', ') : (node.user ?? '');
  const addresses = [node.ipv4, node.ipv6].filter(Boolean);
  const status = node.status === 'pending' ? el('span', { class: 'muted' }, 'waiting for approval')
    : node.expired ? el('span', { class: 'muted' }, 'key expired')
    : node.online ? el('span', { class: 'online' }, 'online')
    : el('span', { class: 'muted' }, 'last seen ' + when(node.lastSeen));
  const routes = node.advertisedRoutes.map(prefix => {
    const approved = node.approvedRoutes.includes(prefix);
    return el('span', { class: approved ? 'route approved' : 'route pending', 'data-prefix': prefix },
      prefix, approved ? ' (approved)' : ' (not approved) ',
      !approved && session.admin && el('button', {
        type: 'button', 'data-action': 'approve-route', 'data-prefix': prefix,
        onclick: () => act(`approved ${prefix} on ${node.name}`, () => api('POST', `/nodes/${node.id}/routes/approve`, { prefixes: [prefix] })),
      }, 'Approve'));
  });
  const actions = session.admin && el('td', { class: 'actions' },
    node.status === 'pending' && el('button', {
      type: 'button', 'data-action': 'approve-node',
      onclick: () => act(`approved ${node.name}`, () => api('POST', `/nodes/${node.id}/approve`)),
    }, 'Approve node'),
    el('button', {
      type: 'button', 'data-action': 'rename',
      onclick: () => {
        const name = prompt(`New name for ${node.name}`, node.name);
        if (name && name !== node.name) {
          act(`renamed ${node.name} to ${name}`, () => api('POST', `/nodes/${node.id}/rename`, { name }));
        }
      },
    }, 'Rename'),
    el('button', {
      type: 'button', 'data-action': 'tags',
      onclick: () => {
        const text = prompt(`Tags for ${node.name}, comma-separated (tag:server, ...); they replace its owner`, node.tags.join(', '));
        if (text !== null) {
          const tags = text.split(',').map(t => t.trim()).filter(Boolean);
          act(`tagged ${node.name}`, () => api('POST', `/nodes/${node.id}/tags`, { tags }));
        }
      },
    }, 'Tags'),
    el('button', {
      type: 'button', class: 'danger', 'data-action': 'delete',
      onclick: () => {
        if (confirm(`Delete ${node.name}? It leaves the mesh at once and must register again.`)) {
          act(`deleted ${node.name}`, () => api('DELETE', `/nodes/${node.id}`));
        }
      },
    }, 'Delete'));
  return el('tr', { 'data-node': node.name },
    el('td', {}, el('strong', {}, node.name), node.wireGuardGateway && el('div', { class: 'muted' }, 'WireGuard gateway'),
      node.gateway && el('div', { class: 'muted' }, 'plain WireGuard peer')),
    el('td', {}, owner),
    el('td', {}, addresses.map(a => el('div', {}, a))),
    el('td', { class: 'status' }, status),
    el('td', {}, routes.length > 0 ? routes : el('span', { class: 'muted' }, 'none')),
    el('td', {}, node.keyExpiry ? new Date(node.keyExpiry).toISOString().slice(0, 10) : el('span', { class: 'muted' }, 'never')),
    actions);
}

const pages = {
  async machines(page) {
    const nodes = await api('GET', '/nodes');
    page.append(el('h2', {}, session.admin ? 'Machines' : 'Your devices'),
      el('p', {}, el('button', { type: 'button', id: 'reload', onclick: () => show('machines') }, 'Reload')),
      nodes.length === 0 ? el('p', { class: 'muted' }, 'No machines yet.') : el('div', { class: 'table-wrap' }, el('table', { id: 'machines' },
        el('thead', {}, el('tr', {}, ['Name', 'Owner', 'Addresses', 'Status', 'Routes', 'Key expires', session.admin && 'Actions'].filter(Boolean).map(h => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, nodes.map(machineRow)))));
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
        el('td', {}, el('code', {}, k.prefix)),
        el('td', {}, k.tags.length > 0 ? k.tags.join(', ') : (k.user ?? '')),
        el('td', {}, [k.reusable ? 'reusable' : 'single use', k.ephemeral && 'ephemeral'].filter(Boolean).join(', ')),
        el('td', {}, k.uses),
        el('td', {}, k.revoked ? 'revoked' : k.usable ? 'usable' : 'spent or expired'),
        el('td', {}, k.expiresAt ? moment(k.expiresAt) : 'never'),
        el('td', { class: 'actions' }, k.usable && el('button', {
          type: 'button', class: 'danger', 'data-action': 'revoke',
          onclick: () => {
            if (confirm(`Revoke ${k.prefix}? Nodes it registered stay.`)) {
              act(`revoked ${k.prefix}`, () => api('POST', `/authkeys/${encodeURIComponent(k.prefix)}/expire`));
            }
          },
        }, 'Revoke'))))))));
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

async function show(name) {
  const page = document.getElementById('page');
  const fresh = el('section', { id: 'page', 'data-page': name, 'aria-busy': 'true' });
  try {
    await pages[name](fresh);
  } catch (error) {
    fresh.append(el('p', { class: 'message error' }, error.message));
  }
  fresh.removeAttribute('aria-busy');
  page.replaceWith(fresh);
  for (const link of document.querySelectorAll('#nav a')) {
    link.toggleAttribute('aria-current', false);
    if (link.dataset.page === name) {
      link.setAttribute('aria-current', 'page');
    }
  }
}

function showSignedOut() {
  session = null;
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  document.getElementById('page').replaceChildren();
  document.getElementById('signed-out').hidden = false;
}

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
  window.addEventListener('hashchange', () => {
    notice(null);
    show(currentPage());
  });
  await show(currentPage());
}

document.getElementById('sign-out').addEventListener('click', async () => {
  await fetch('/admin/logout', { method: 'POST', headers: { [csrfHeader]: session?.csrf ?? '' }, credentials: 'same-origin' });
  showSignedOut();
});

start();
