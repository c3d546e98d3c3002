/**
 * The dashboard page: one HTML document with its CSS and script inline (no external asset, no framework),
 * the same for `/` and `/env/<repoId>/<name>` (the script shows the list or the env from the path). The
 * token for state-changing requests is embedded in a meta tag; the inline style and script run under a
 * per-response nonce, everything else is blocked by the CSP the server sends with it.
 */
export function pageHtml(options: { token: string; nonce: string }): string {
  const attr = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="envs-token" content="${attr(options.token)}">
<title>envs</title>
<style nonce="${attr(options.nonce)}">${CSS}</style>
</head>
<body>
<header class="top">
  <a class="brand" href="/">envs</a>
  <span id="meta" class="muted"></span>
</header>
<main>
  <div id="notice" role="status" aria-live="polite"></div>
  <div id="view"><p class="muted">Loading…</p></div>
  <section id="logs" class="logs" hidden aria-labelledby="logs-title">
    <div class="row">
      <h3 id="logs-title">Recent logs</h3>
      <button type="button" id="logs-refresh">Refresh logs</button>
    </div>
    <pre id="logs-text" tabindex="0" aria-label="Recent logs">…</pre>
  </section>
</main>
<dialog id="confirm" aria-labelledby="confirm-title">
  <form method="dialog" id="confirm-form">
    <h2 id="confirm-title">Destroy <span id="confirm-name"></span>?</h2>
    <p>This removes its containers, volumes, networks, processes and worktree (the branch stays). envs refuses when the worktree holds work.</p>
    <label for="confirm-input">Type the env name to confirm</label>
    <input id="confirm-input" name="confirm" autocomplete="off" spellcheck="false">
    <div class="row end">
      <button type="submit" value="cancel" formnovalidate>Cancel</button>
      <button type="submit" value="ok" id="confirm-go" class="danger" disabled>Destroy</button>
    </div>
  </form>
</dialog>
<script nonce="${attr(options.nonce)}">${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = `
:root { color-scheme: light dark; --fg: #1d2127; --muted: #5b6470; --bg: #fbfbfc; --card: #fff; --line: #d9dde3; --accent: #0b5fd9;
  --ok: #17753a; --warn: #8a5a00; --bad: #b42318; --focus: #ff9f1a; font: 14px/1.45 system-ui, sans-serif; }
@media (prefers-color-scheme: dark) { :root { --fg: #e7e9ec; --muted: #9aa3ae; --bg: #15181c; --card: #1d2126; --line: #333a43; --accent: #6ea8ff;
  --ok: #4cc37a; --warn: #e0b050; --bad: #ff7a6e; } }
body { margin: 0; background: var(--bg); color: var(--fg); }
.top { display: flex; gap: 1rem; align-items: baseline; padding: .75rem 1.25rem; border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 1.2rem; color: var(--fg); text-decoration: none; }
main { padding: 1rem 1.25rem 3rem; max-width: 90rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 3px; }
.muted { color: var(--muted); }
h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; word-break: break-all; }
h3 { font-size: 1rem; margin: 0; }
h1 { font-size: 1.4rem; margin: .5rem 0 .75rem; word-break: break-all; }
h1 .badge, h1 .muted { font-size: .8rem; font-weight: 400; vertical-align: middle; }
table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; border: 1px solid currentColor; font-size: .8rem; white-space: nowrap; }
.s-running { color: var(--ok); } .s-stopped, .s-creating, .s-destroying { color: var(--muted); }
.s-partial, .s-unknown, .flag-dirty { color: var(--warn); } .s-failed, .s-corrupt { color: var(--bad); }
.flag-merged { color: var(--accent); }
button { font: inherit; padding: .2rem .7rem; border-radius: 4px; border: 1px solid var(--line); background: var(--card); color: var(--fg); cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
button.danger { color: var(--bad); border-color: currentColor; }
.actions { display: flex; gap: .35rem; flex-wrap: wrap; }
.row { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
.row.end { justify-content: flex-end; margin-top: 1rem; }
ul.plain { list-style: none; margin: 0; padding: 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; background: var(--card); border: 1px solid var(--line); padding: .75rem 1rem; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; word-break: break-all; }
.problems { color: var(--bad); } .warnings { color: var(--warn); }
#notice:empty { display: none; }
#notice { padding: .6rem .9rem; border: 1px solid var(--line); border-radius: 4px; background: var(--card); margin-bottom: 1rem; white-space: pre-wrap; }
#notice.error { border-color: var(--bad); color: var(--bad); }
.logs { margin-top: 1.5rem; }
.logs pre { background: #0f1216; color: #d6dde6; padding: .75rem; max-height: 28rem; overflow: auto; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
dialog { border: 1px solid var(--line); border-radius: 6px; background: var(--card); color: var(--fg); max-width: 32rem; }
dialog::backdrop { background: rgb(0 0 0 / .45); }
dialog input { display: block; width: 100%; box-sizing: border-box; font: inherit; padding: .35rem; margin-top: .35rem; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`;

// Client code: plain ES2022 in a raw string (no backticks or template placeholders inside, no build step).
const SCRIPT = String.raw`
'use strict';
(function () {
  var token = document.querySelector('meta[name="envs-token"]').content;
  var view = document.getElementById('view');
  var meta = document.getElementById('meta');
  var notice = document.getElementById('notice');
  var logs = document.getElementById('logs');
  var logsText = document.getElementById('logs-text');
  var dialog = document.getElementById('confirm');
  var confirmInput = document.getElementById('confirm-input');
  var confirmGo = document.getElementById('confirm-go');
  var fleet = null;
  var pending = {};
  var shown = '';
  var pendingDestroy = null;

  var match = /^\/env\/([^/]+)\/([^/]+)\/?$/.exec(location.pathname);
  var route = match ? { repoId: decodeURIComponent(match[1]), name: decodeURIComponent(match[2]) } : null;

  function esc(value) {
    return String(value == null ? '' : value).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  function keyOf(env) { return env.repo_id + '/' + env.name; }
  function pathOf(env) { return '/env/' + encodeURIComponent(env.repo_id) + '/' + encodeURIComponent(env.name); }
  function apiOf(env) { return '/api/envs/' + encodeURIComponent(env.repo_id) + '/' + encodeURIComponent(env.name); }
  function span(seconds) {
    if (seconds == null || !isFinite(seconds)) return '';
    if (seconds < 60) return Math.max(0, Math.round(seconds)) + ' s';
    if (seconds < 3600) return Math.round(seconds / 60) + ' min';
    if (seconds < 172800) return Math.round(seconds / 3600) + ' h';
    return Math.round(seconds / 86400) + ' d';
  }
  // Times are written relative by updateTimes() in place, so the markup of a row stays the same between polls
  // (a row is replaced only when its data changes, and buttons under the pointer or the focus stay put).
  function rel(iso, suffix) {
    return isFinite(Date.parse(iso)) ? '<time class="rel" datetime="' + esc(iso) + '" data-suffix="' + esc(suffix) + '"></time>' : '';
  }
  function updateTimes() {
    Array.prototype.forEach.call(view.querySelectorAll('time.rel'), function (el) {
      var text = span((Date.now() - Date.parse(el.getAttribute('datetime'))) / 1000) + el.getAttribute('data-suffix');
      if (el.textContent !== text) el.textContent = text;
    });
  }
  function webUrl(url) {
    try { var u = new URL(url); return u.protocol === 'http:' || u.protocol === 'https:' ? url : null; } catch (e) { return null; }
  }
  function status(env) {
    var label = pending[keyOf(env)] ? pending[keyOf(env)] + '…' : env.status;
    return '<span class="badge s-' + esc(env.status) + '">' + esc(label) + '</span>';
  }
  function flags(env) {
    var out = [];
    if (env.dirty) out.push('<span class="badge flag-dirty" title="the worktree holds work destroy would lose">dirty</span>');
    if (env.merged) out.push('<span class="badge flag-merged" title="the branch is merged into the default branch">merged</span>');
    if (env.dirty === false && !env.merged) out.push('<span class="muted">clean</span>');
    return out.join(' ');
  }
  function links(env, urls, kind) {
    urls = urls || env.urls || {};
    var items = Object.keys(urls).map(function (name) {
      var url = webUrl(urls[name]);
      return url ? '<li><a href="' + esc(url) + '" target="_blank" rel="noopener noreferrer" data-focus="' + (kind || 'link') + ':' + esc(keyOf(env)) + ':' + esc(name) + '">' + esc(name) + ': ' + esc(url) + '</a></li>' : '';
    }).join('');
    return items ? '<ul class="plain">' + items + '</ul>' : '<span class="muted">none</span>';
  }
  function services(env) {
    var states = {};
    (env.service_states || []).forEach(function (s) { states[s.service] = s; });
    var items = (env.services || []).map(function (name) {
      var ports = (env.ports || []).filter(function (p) { return p.service === name; }).map(function (p) {
        return p.published + '→' + p.target + (p.protocol === 'tcp' ? '' : '/' + p.protocol);
      });
      var state = states[name] ? ' <span class="muted">' + esc(states[name].state + (states[name].health ? ', ' + states[name].health : '')) + '</span>' : '';
      return '<li>' + esc(name) + (ports.length ? ' :' + esc(ports.join(', ')) : '') + state + '</li>';
    });
    (env.processes || []).forEach(function (p) {
      items.push('<li>' + esc(p.name) + (p.port ? ' :' + esc(p.port) : '') + ' <span class="muted">process, ' + esc(p.state) + '</span></li>');
    });
    return items.length ? '<ul class="plain">' + items.join('') + '</ul>' : '<span class="muted">none</span>';
  }
  function actions(env) {
    var busy = Boolean(pending[keyOf(env)]) || env.status === 'corrupt';
    var k = esc(keyOf(env));
    var label = esc(env.branch || env.name);
    return '<div class="actions">' +
      '<button type="button" data-action="up" data-key="' + k + '" data-focus="up:' + k + '" aria-label="Up ' + label + '"' + (busy ? ' disabled' : '') + '>Up</button>' +
      '<button type="button" data-action="down" data-key="' + k + '" data-focus="down:' + k + '" aria-label="Down ' + label + '"' + (busy ? ' disabled' : '') + '>Down</button>' +
      '<button type="button" class="danger" data-action="destroy" data-key="' + k + '" data-focus="destroy:' + k + '" aria-label="Destroy ' + label + '"' + (busy ? ' disabled' : '') + '>Destroy…</button>' +
      '</div>';
  }
  function activity(env) {
    if (!env.last_activity) return '';
    return '<span title="' + esc(env.last_activity + ' (' + env.last_activity_from + ')') + '">' + rel(env.last_activity, ' ago') + '</span>' +
      ' <span class="muted">' + esc(env.last_activity_from) + '</span>';
  }

  function renderList() {
    if (fleet.envs.length === 0) return '<p>No envs yet. <code>envs create &lt;branch&gt;</code> in a repository makes one.</p>';
    var groups = {};
    var order = [];
    fleet.envs.forEach(function (env) {
      var repo = env.repo || env.repo_id;
      if (!groups[repo]) { groups[repo] = []; order.push(repo); }
      groups[repo].push(env);
    });
    return order.map(function (repo, i) {
      var rows = groups[repo].map(rowOf).join('');
      return '<section aria-labelledby="repo-' + i + '"><h2 id="repo-' + i + '">' + esc(repo) + '</h2>' +
        '<table><thead><tr><th scope="col">Branch</th><th scope="col">Status</th><th scope="col">Services and ports</th><th scope="col">Preview</th>' +
        '<th scope="col">Flags</th><th scope="col">Age</th><th scope="col">Last activity</th><th scope="col">Actions</th></tr></thead>' +
        '<tbody>' + rows + '</tbody></table></section>';
    }).join('');
  }

  function rowOf(env) {
        return '<tr data-env="' + esc(keyOf(env)) + '">' +
          '<td><a href="' + esc(pathOf(env)) + '" data-focus="open:' + esc(keyOf(env)) + '">' + esc(env.branch || env.name) + '</a><div class="muted">' + esc(env.name) + '</div></td>' +
          '<td>' + status(env) + '</td>' +
          '<td>' + services(env) + '</td>' +
          '<td>' + links(env) + '</td>' +
          '<td>' + flags(env) + '</td>' +
          '<td>' + rel(env.created_at, '') + '</td>' +
          '<td>' + activity(env) + '</td>' +
          '<td>' + actions(env) + '</td></tr>';
  }

  function list(items, cls) {
    return items && items.length ? '<ul class="' + cls + '">' + items.map(function (t) { return '<li>' + esc(t) + '</li>'; }).join('') + '</ul>' : '';
  }

  function renderEnv() {
    var env = fleet.envs.find(function (e) { return e.repo_id === route.repoId && e.name === route.name; });
    var back = '<p><a href="/" data-focus="back">← All envs</a></p>';
    if (!env) return back + '<h1>' + esc(route.name) + '</h1><p>No such env in this repository (destroyed?).</p>';
    var facts = [
      ['Env', env.name], ['Repository', env.repo], ['Worktree', env.worktree + (env.worktree_exists === false ? ' (missing)' : '')],
      ['Compose project', env.project], ['Base', env.base && env.base.ref ? env.base.ref + ' @ ' + String(env.base.commit).slice(0, 12) : ''],
    ].filter(function (f) { return f[1]; }).map(function (f) { return '<dt>' + esc(f[0]) + '</dt><dd>' + esc(f[1]) + '</dd>'; }).join('') +
      (env.created_at ? '<dt>Created</dt><dd>' + esc(env.created_at) + ' (' + rel(env.created_at, ' ago') + ')</dd>' : '') +
      (env.last_activity ? '<dt>Last activity</dt><dd>' + rel(env.last_activity, ' ago') + ' (' + esc(env.last_activity_from + ', ' + env.last_activity) + ')</dd>' : '');
    var ports = (env.ports || []).map(function (p) {
      return '<tr><td>' + esc(p.service) + '</td><td>' + esc(p.target) + '/' + esc(p.protocol) + '</td><td>' + esc(p.host_ip) + ':' + esc(p.published) + '</td></tr>';
    }).join('');
    return back +
      '<h1>' + esc(env.branch || env.name) + ' ' + status(env) + ' ' + flags(env) + '</h1>' +
      actions(env) +
      list(env.problems, 'problems') + list(env.warnings, 'warnings') +
      '<h2>Preview</h2>' + links(env) +
      (Object.keys(env.direct_urls || {}).length ? '<h2>Direct</h2>' + links(env, env.direct_urls, 'direct') : '') +
      '<h2>Services and processes</h2>' + services(env) +
      (ports ? '<h2>Ports</h2><table><thead><tr><th scope="col">Service</th><th scope="col">Container port</th><th scope="col">Host address</th></tr></thead><tbody>' + ports + '</tbody></table>' : '') +
      '<h2>Details</h2><dl class="facts">' + facts + '</dl>';
  }

  var rowsShown = {};
  function render() {
    if (!fleet) return;
    var html = route ? renderEnv() : renderList();
    if (html === shown) return updateTimes();
    if (!route && patchRows()) { shown = html; return updateTimes(); }
    // Polling must not steal the keyboard: the focused control is found again by its data-focus key.
    var focused = document.activeElement && view.contains(document.activeElement) ? document.activeElement.getAttribute('data-focus') : null;
    view.innerHTML = html;
    shown = html;
    rowsShown = {};
    if (!route) fleet.envs.forEach(function (env) { rowsShown[keyOf(env)] = rowOf(env); });
    if (focused) refocus(focused);
    else if (wantFocus && refocus(wantFocus)) wantFocus = null;
    updateTimes();
    document.title = route ? route.name + ' · envs' : 'envs (' + fleet.envs.length + ')';
  }

  // Same envs in the same order: only the rows whose data changed are replaced.
  function patchRows() {
    var rows = view.querySelectorAll('tr[data-env]');
    if (rows.length !== fleet.envs.length) return false;
    for (var i = 0; i < rows.length; i++) if (rows[i].getAttribute('data-env') !== keyOf(fleet.envs[i])) return false;
    var focused = document.activeElement && view.contains(document.activeElement) ? document.activeElement.getAttribute('data-focus') : null;
    fleet.envs.forEach(function (env, i) {
      var html = rowOf(env);
      if (rowsShown[keyOf(env)] === html) return;
      rows[i].outerHTML = html;
      rowsShown[keyOf(env)] = html;
    });
    if (focused && !(document.activeElement && view.contains(document.activeElement))) refocus(focused);
    else if (!focused && wantFocus && refocus(wantFocus)) wantFocus = null;
    return true;
  }

  // A button that started an action is disabled while it runs, which drops the focus: it goes back when it can.
  var wantFocus = null;
  document.addEventListener('focusin', function (event) {
    if (event.target !== document.body && !(event.target.getAttribute && event.target.getAttribute('data-focus') === wantFocus)) wantFocus = null;
  });
  function refocus(key) {
    var el = Array.prototype.find.call(view.querySelectorAll('[data-focus]'), function (e) { return e.getAttribute('data-focus') === key; });
    if (!el || el.disabled) return false;
    el.focus();
    return true;
  }

  function say(text, isError) {
    notice.textContent = text;
    notice.className = isError ? 'error' : '';
  }

  var polling = false;
  function refresh() {
    if (polling) return Promise.resolve();
    polling = true;
    return fetch('/api/envs', { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    }).then(function (data) {
      fleet = data;
      pending = data.pending || {};
      meta.textContent = data.envs.length + ' envs' + (data.engine_reachable ? '' : ' · the Docker engine does not answer: statuses unknown') +
        ' · updated ' + new Date(data.generated_at).toLocaleTimeString();
      render();
    }).catch(function (e) {
      meta.textContent = 'cannot reach the dashboard (' + e.message + '); retrying';
    }).finally(function () { polling = false; });
  }

  function findEnv(key) {
    return fleet && fleet.envs.find(function (e) { return keyOf(e) === key; });
  }

  function act(env, action, body) {
    pending[keyOf(env)] = action;
    shown = '';
    render();
    say('envs ' + action + ' ' + (env.branch || env.name) + '…', false);
    return fetch(apiOf(env) + '/' + action, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-envs-token': token },
      body: JSON.stringify(body || {}),
    }).then(function (r) {
      return r.json().catch(function () { return { ok: false, error: { message: 'HTTP ' + r.status } }; });
    }).then(function (result) {
      if (result.ok) say('envs ' + action + ' ' + (env.branch || env.name) + ': done.', false);
      else say(result.error.message + (result.error.hint ? '\n' + result.error.hint : ''), true);
    }).catch(function (e) {
      say('envs ' + action + ' ' + (env.branch || env.name) + ' failed: ' + e.message, true);
    }).finally(function () {
      delete pending[keyOf(env)];
      shown = '';
      refresh();
    });
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('button[data-action]');
    if (!button || button.disabled) return;
    var env = findEnv(button.getAttribute('data-key'));
    if (!env) return;
    var action = button.getAttribute('data-action');
    if (action !== 'destroy') { wantFocus = button.getAttribute('data-focus'); act(env, action); return; }
    pendingDestroy = { env: env, opener: button.getAttribute('data-focus') };
    document.getElementById('confirm-name').textContent = env.name;
    confirmInput.value = '';
    confirmInput.setAttribute('placeholder', env.name);
    confirmGo.disabled = true;
    dialog.returnValue = '';
    dialog.showModal();
    confirmInput.focus();
  });
  confirmInput.addEventListener('input', function () {
    confirmGo.disabled = !pendingDestroy || confirmInput.value !== pendingDestroy.env.name;
  });
  confirmInput.addEventListener('keydown', function (event) {
    // Enter confirms only with the exact name (the form's default button would be Cancel).
    if (event.key !== 'Enter') return;
    event.preventDefault();
    if (!confirmGo.disabled) dialog.close('ok');
  });
  dialog.addEventListener('close', function () {
    var target = pendingDestroy;
    pendingDestroy = null;
    if (!target) return;
    wantFocus = target.opener;
    if (dialog.returnValue === 'ok' && confirmInput.value === target.env.name) act(target.env, 'destroy', { confirm: target.env.name });
    if (refocus(target.opener)) wantFocus = null;
  });

  function loadLogs() {
    logsText.textContent = 'Loading…';
    return fetch(apiOf(route && { repo_id: route.repoId, name: route.name }) + '/logs', { cache: 'no-store', headers: { 'x-envs-token': token } })
      .then(function (r) { return r.text(); })
      .then(function (text) { logsText.textContent = text || '(no output yet)'; logsText.scrollTop = logsText.scrollHeight; })
      .catch(function (e) { logsText.textContent = 'Could not load the logs: ' + e.message; });
  }
  if (route) {
    logs.hidden = false;
    document.getElementById('logs-refresh').addEventListener('click', loadLogs);
    loadLogs();
  }

  refresh();
  setInterval(refresh, 2000);
})();
`;
