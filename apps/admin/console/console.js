// The operations console: a thin client of the admin API. Everything it shows comes from
// /admin with the signed-in token; data is only ever rendered as text (textContent, text
// nodes, element properties), never parsed as HTML - payloads are attacker-controlled.

const TOKEN_KEY = 'settlement.adminToken';
const REFRESH_MS = 2000;

const state = {
  session: null,
  view: 'lag',
  selected: null,
  /** The dead letter whose correction is being edited (not overwritten by refreshes). */
  editing: null,
  timer: null,
};

const $ = (id) => document.getElementById(id);

/** An element with properties (never innerHTML) and children as nodes or text. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node[name] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const token = () => sessionStorage.getItem(TOKEN_KEY);

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Authorization: `Bearer ${token()}`, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    signOut('The token was not accepted; sign in again.');
    throw new ApiError(401, data.message ?? 'unauthorized');
  }
  if (!res.ok) throw new ApiError(res.status, data.message ?? `${res.status} ${res.statusText}`);
  return data;
}

function notice(text, kind = 'ok') {
  const n = $('notice');
  n.textContent = text;
  n.className = kind;
}

const isOperator = () => state.session?.principal.role === 'operator';

/** A link into the Temporal Web UI for a workflow id (http/https base URLs only). */
function workflowLink(workflowId) {
  const base = state.session?.temporalWebUrl ?? '';
  if (!/^https?:\/\//i.test(base) || !workflowId) return String(workflowId ?? '');
  const ns = encodeURIComponent(state.session.temporalNamespace);
  const href = `${base.replace(/\/+$/, '')}/namespaces/${ns}/workflows/${encodeURIComponent(workflowId)}`;
  return el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, workflowId);
}

const when = (iso) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');

// ---------------------------------------------------------------- sign-in

async function signIn(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
  try {
    state.session = await api('/admin/session');
  } catch (err) {
    sessionStorage.removeItem(TOKEN_KEY);
    $('sign-in-error').textContent =
      err.status === 401 ? 'That token is not valid.' : `Cannot sign in: ${err.message}`;
    return;
  }
  $('sign-in').hidden = true;
  $('app').hidden = false;
  $('who').hidden = false;
  $('who-name').textContent = state.session.principal.name;
  $('who-role').textContent = state.session.principal.role;
  document.body.classList.toggle('readonly', !isOperator());
  for (const b of document.querySelectorAll('.changes button, button.changes, .changes input'))
    b.disabled = !isOperator();
  show(location.hash.slice(1) || 'lag');
}

function signOut(message = '') {
  sessionStorage.removeItem(TOKEN_KEY);
  state.session = null;
  clearInterval(state.timer);
  $('app').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-error').textContent = message;
  $('token').value = '';
}

// ---------------------------------------------------------------- views

const VIEWS = {
  lag: refreshLag,
  batches: refreshBatches,
  'dead-letters': refreshDeadLetters,
  replays: refreshReplays,
};

function show(view) {
  if (!VIEWS[view]) view = 'lag';
  state.view = view;
  notice('');
  history.replaceState(null, '', `#${view}`);
  for (const section of document.querySelectorAll('.view'))
    section.hidden = section.id !== `view-${view}`;
  for (const tab of document.querySelectorAll('.tab'))
    tab.classList.toggle('active', tab.dataset.view === view);
  clearInterval(state.timer);
  void refresh();
  state.timer = setInterval(() => void refresh(), REFRESH_MS);
}

async function refresh() {
  try {
    await VIEWS[state.view]();
  } catch (err) {
    if (err.status !== 401) notice(err.message, 'error');
  }
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---------------------------------------------------------------- lag, pause/resume

async function refreshLag() {
  const lag = await api('/admin/lag');
  $('lag-group').textContent = lag.groupId;
  $('lag-topic').textContent = lag.topic;
  $('lag-state').textContent = lag.consumption.paused ? 'PAUSED' : 'CONSUMING';
  $('lag-state').className = lag.consumption.paused ? 'paused' : 'consuming';
  $('lag-reason').textContent = lag.consumption.paused
    ? `(${lag.consumption.reason ?? 'no reason'}, by ${lag.consumption.updatedBy ?? '?'})`
    : '';
  $('lag-total').textContent = lag.totalLag;
  fill(
    $('lag-rows'),
    lag.partitions.map((p) =>
      el(
        'tr',
        {},
        el('td', {}, p.partition),
        el('td', {}, p.committedOffset ?? '-'),
        el('td', {}, p.startOffset),
        el('td', {}, p.endOffset),
        el('td', {}, p.lag),
      ),
    ),
  );
}

async function setPaused(paused) {
  const reason = $('pause-reason').value.trim();
  await act(
    () =>
      api(`/admin/consumers/${paused ? 'pause' : 'resume'}`, {
        method: 'POST',
        body: reason ? { reason } : {},
      }),
    paused ? 'Consumption paused.' : 'Consumption resumed.',
  );
  await refreshLag();
}

/** Runs a change, reporting success or the API's error message. */
async function act(change, success) {
  try {
    const result = await change();
    notice(typeof success === 'function' ? success(result) : success, 'ok');
    return result;
  } catch (err) {
    notice(err.message, 'error');
    return undefined;
  }
}

// ---------------------------------------------------------------- batches

async function refreshBatches() {
  const status = $('batch-status').value;
  const page = await api(`/admin/batches?limit=50${status ? `&status=${status}` : ''}`);
  fill(
    $('batch-rows'),
    page.items.map((b) =>
      el(
        'tr',
        {},
        el('td', { class: 'mono' }, b.id),
        el('td', {}, b.partition),
        el('td', {}, `${b.fromOffset}-${b.nextOffset}`),
        el('td', {}, el('span', { class: `badge ${b.status}` }, b.status)),
        el('td', {}, b.counts.messages),
        el('td', {}, b.counts.settled),
        el('td', {}, b.counts.rejected),
        el('td', {}, b.counts.deadLettered),
        el('td', { class: 'mono' }, workflowLink(b.workflowId)),
      ),
    ),
  );
}

// ---------------------------------------------------------------- dead letters

async function refreshDeadLetters() {
  const query = new URLSearchParams({ limit: '100' });
  if ($('dl-status').value) query.set('status', $('dl-status').value);
  if ($('dl-reason').value) query.set('reason', $('dl-reason').value);
  const page = await api(`/admin/dead-letters?${query}`);
  fill(
    $('dl-rows'),
    page.items.map((d) =>
      el(
        'tr',
        {
          class: `clickable${d.id === state.selected ? ' selected' : ''}`,
          onclick: () => void select(d.id),
          title: 'show this dead letter',
        },
        el('td', {}, el('button', { type: 'button', class: 'link' }, `#${d.id}`)),
        el('td', {}, el('span', { class: `badge ${d.status}` }, d.status)),
        el('td', {}, d.reason),
        el('td', {}, d.field ?? ''),
        el('td', {}, when(d.createdAt)),
      ),
    ),
  );
  if (state.selected) await renderDeadLetter(await api(`/admin/dead-letters/${state.selected}`));
}

async function select(id) {
  state.selected = id;
  state.editing = null;
  await refreshDeadLetters();
}

function renderDeadLetter(d) {
  $('dl-detail').hidden = false;
  $('dl-id').textContent = `#${d.id}`;
  $('dl-state').textContent = d.status;
  $('dl-state').className = `badge ${d.status}`;
  $('dl-why').textContent = d.reason;
  $('dl-field').textContent = d.field ?? '-';
  $('dl-message').textContent = d.message;
  $('dl-source').textContent = `${d.topic} / partition ${d.partition} / offset ${d.offset}`;
  $('dl-key').textContent = d.key ?? '(none)';
  $('dl-headers').textContent = d.headers ? JSON.stringify(d.headers) : '(none)';
  $('dl-encoding').textContent = d.payload.encoding === 'utf8' ? 'UTF-8' : 'hex (not UTF-8)';
  $('dl-payload').textContent = d.payload.text;

  const history = [];
  if (d.proposal) {
    history.push(
      `Correction proposed by ${d.proposal.proposedBy} at ${when(d.proposal.proposedAt)}`,
    );
    if (d.proposal.approvedBy)
      history.push(`Approved by ${d.proposal.approvedBy} at ${when(d.proposal.approvedAt)}`);
  }
  const r = d.resubmission;
  if (r) {
    history.push(
      `Resubmitted ${r.corrected ? 'corrected' : 'as is'} by ${r.resubmittedBy} at ${when(r.resubmittedAt)}` +
        (r.redriveId ? ` (re-drive ${r.redriveId})` : ''),
    );
    history.push(
      r.publishedAt
        ? `Published to partition ${r.partition}, offset ${r.offset}`
        : 'Waiting to be published',
    );
    if (r.outcome)
      history.push(
        `Outcome of ${r.transactionId}: ${r.outcome.status}${r.outcome.reason ? ` ${r.outcome.reason}` : ''} (batch ${r.outcome.batchId})`,
      );
  }
  if (d.discard)
    history.push(
      `Discarded by ${d.discard.discardedBy} at ${when(d.discard.discardedAt)}: ${d.discard.reason}`,
    );
  const items = history.map((line) => el('li', {}, line));
  if (r?.deadLetteredAgainAs) {
    items.push(
      el(
        'li',
        {},
        'Dead-lettered again as ',
        el(
          'button',
          { type: 'button', class: 'link', onclick: () => void select(r.deadLetteredAgainAs) },
          `#${r.deadLetteredAgainAs}`,
        ),
      ),
    );
  }
  const shown = [];
  if (d.proposal && d.status !== 'PROPOSED') {
    shown.push(
      el('h4', {}, 'Correction'),
      el('pre', { class: 'correction' }, d.proposal.correctedMessage ?? ''),
    );
  }
  if (items.length) shown.push(el('ul', {}, ...items));
  $('dl-history').replaceChildren(...shown);

  const me = state.session.principal.name;
  const open = d.status === 'OPEN';
  const proposed = d.status === 'PROPOSED';
  $('dl-actions').hidden = !isOperator() || !(open || proposed);
  const area = $('dl-correction');
  if (state.editing !== d.id) {
    area.value = proposed
      ? (d.proposal.correctedMessage ?? '')
      : d.payload.encoding === 'utf8'
        ? d.payload.text
        : '';
  }
  area.readOnly = !open;
  $('dl-propose').hidden = !open;
  $('dl-resubmit').hidden = !open;
  $('dl-approve').hidden = !proposed;
  $('dl-approve').disabled = !proposed || d.proposal.proposedBy === me;
  $('dl-approve').title =
    proposed && d.proposal.proposedBy === me
      ? 'four eyes: another operator must approve your correction'
      : '';
}

async function deadLetterAction(path, body, success) {
  const id = state.selected;
  const result = await act(
    () => api(`/admin/dead-letters/${id}/${path}`, { method: 'POST', body }),
    success,
  );
  if (result) state.editing = null;
  await refreshDeadLetters();
}

async function redrive(dryRun) {
  const filter = {};
  if ($('dl-reason').value) filter.reason = $('dl-reason').value;
  const result = await act(
    () => api('/admin/dead-letters/redrive', { method: 'POST', body: { filter, dryRun } }),
    (r) =>
      dryRun
        ? `Dry run: ${r.matched} OPEN dead letters match; ${r.resubmitted} would be resubmitted, ${r.skipped} skipped.`
        : `Re-drive ${r.redriveId} started for ${r.matched} dead letters.`,
  );
  if (result && !dryRun) void followRedrive(result);
}

async function followRedrive(started) {
  const line = $('redrive-result');
  for (;;) {
    const r = await api(`/admin/dead-letters/redrives/${started.redriveId}`).catch(() => null);
    if (!r) return;
    line.replaceChildren(
      `Re-drive ${r.redriveId}: ${r.status}, ${r.counts.resubmitted}/${r.counts.matched} resubmitted, ` +
        `${r.counts.published} published, ${r.counts.skipped} skipped. `,
      workflowLink(r.workflowId),
    );
    if (r.status !== 'RUNNING') return;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

// ---------------------------------------------------------------- replays

function replayProgress(r) {
  let total = 0;
  let done = 0;
  for (const range of r.ranges) {
    const from = Number(range.fromOffset);
    const to = Number(range.toOffset);
    const at = Number(r.progress[String(range.partition)] ?? from);
    total += to - from;
    done += Math.min(Math.max(at - from, 0), to - from);
  }
  return { total, done };
}

async function refreshReplays() {
  const page = await api('/admin/replays?limit=25');
  fill(
    $('replay-rows'),
    page.items.map((r) => {
      const p = replayProgress(r);
      const bar = el('progress', { max: Math.max(p.total, 1), value: p.done });
      return el(
        'tr',
        { class: 'replay' },
        el('td', { class: 'mono' }, r.replayId),
        el('td', {}, el('span', { class: `badge ${r.status}` }, r.status)),
        el('td', {}, r.mode),
        el('td', {}, bar, ` ${p.done}/${p.total}`),
        el('td', {}, r.counts.read),
        el('td', {}, r.counts.alreadySettled),
        el('td', {}, r.counts.settled),
        el('td', {}, r.counts.rejected),
        el('td', {}, r.counts.deadLettered),
        el('td', { class: 'mono' }, workflowLink(r.workflowId)),
        el(
          'td',
          {},
          r.status === 'RUNNING' && isOperator()
            ? el(
                'button',
                {
                  type: 'button',
                  onclick: () =>
                    void act(
                      () => api(`/admin/replays/${r.replayId}/cancel`, { method: 'POST' }),
                      `Cancelling ${r.replayId}.`,
                    ).then(refreshReplays),
                },
                'Cancel',
              )
            : null,
        ),
      );
    }),
  );
}

async function startReplay(event) {
  event.preventDefault();
  const body = {
    from: { offset: $('replay-from').value.trim() },
    to: { offset: $('replay-to').value.trim() },
    mode: $('replay-mode').value,
  };
  const partitions = $('replay-partitions').value.trim();
  if (partitions) body.partitions = partitions.split(',').map((p) => Number(p.trim()));
  await act(
    () => api('/admin/replays', { method: 'POST', body }),
    (r) => `Replay ${r.replayId} started.`,
  );
  await refreshReplays();
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn($('token').value.trim());
  });
  $('sign-out').addEventListener('click', () => signOut());
  for (const tab of document.querySelectorAll('.tab'))
    tab.addEventListener('click', () => show(tab.dataset.view));
  $('pause').addEventListener('click', () => void setPaused(true));
  $('resume').addEventListener('click', () => void setPaused(false));
  $('batch-status').addEventListener('change', () => void refresh());
  $('dl-status').addEventListener('change', () => void refresh());
  $('dl-reason').addEventListener('change', () => void refresh());
  $('dl-refresh').addEventListener('click', () => void refresh());
  $('redrive-dry').addEventListener('click', () => void redrive(true));
  $('redrive-run').addEventListener('click', () => void redrive(false));
  $('dl-correction').addEventListener('input', () => (state.editing = state.selected));
  $('dl-propose').addEventListener(
    'click',
    () =>
      void deadLetterAction(
        'resubmit',
        { correctedMessage: $('dl-correction').value },
        'Correction proposed; another operator must approve it.',
      ),
  );
  $('dl-approve').addEventListener(
    'click',
    () => void deadLetterAction('approve', {}, 'Correction approved and resubmitted.'),
  );
  $('dl-resubmit').addEventListener(
    'click',
    () => void deadLetterAction('resubmit', {}, 'Resubmitted as is.'),
  );
  $('dl-discard').addEventListener(
    'click',
    () =>
      void deadLetterAction(
        'discard',
        { reason: $('dl-discard-reason').value },
        'Dead letter discarded.',
      ),
  );
  $('replay-form').addEventListener('submit', (event) => void startReplay(event));
  if (token()) void signIn(token());
}

wire();
