// The status page: polls GET /v1/collectors and draws it. Plain DOM, no
// framework, no build step. Everything a collector controls (names, errors,
// tracebacks) is written as text, never as HTML.

const POLL_MS = 2000;
const SVG = 'http://www.w3.org/2000/svg';
const HEALTH_TEXT = { healthy: 'healthy', backing_off: 'backing off', quarantined: 'quarantined' };

/** An element with `props` (className, text, title, data: {...}, attrs: {...}) and children (nodes, strings; falsy ones left out). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  if (props.title) node.title = props.title;
  for (const [key, value] of Object.entries(props.data ?? {})) node.dataset[key] = value;
  for (const [key, value] of Object.entries(props.attrs ?? {})) node.setAttribute(key, value);
  for (const child of children) if (child) node.append(child);
  return node;
}

function duration(ms) {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} m ${Math.round(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} m`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

function bytes(n) {
  if (n === undefined || n === null) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** "12 s ago", "in 3 s" from an ISO time, to the second. */
function relative(iso) {
  if (!iso) return '–';
  const ms = Date.parse(iso) - Date.now();
  if (Math.abs(ms) < 1000) return 'now';
  const seconds = Math.round(Math.abs(ms) / 1000);
  const rounded = seconds < 60 ? `${seconds} s` : duration(seconds * 1000);
  return ms < 0 ? `${rounded} ago` : `in ${rounded}`;
}

/** The durations of the last ticks as bars, failed ones marked. */
function sparkline(ticks) {
  const width = 150;
  const height = 28;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `durations of the last ${ticks.length} ticks`);
  const max = Math.max(...ticks.map((tick) => tick.durationMs), 0.001);
  const step = width / 30;
  ticks.forEach((tick, i) => {
    const bar = document.createElementNS(SVG, 'rect');
    const h = Math.max(1.5, (tick.durationMs / max) * (height - 2));
    bar.setAttribute('x', String(width - (ticks.length - i) * step));
    bar.setAttribute('y', String(height - h));
    bar.setAttribute('width', String(step - 1));
    bar.setAttribute('height', String(h));
    bar.setAttribute('class', tick.exit === 'ok' ? 'ok' : 'failed');
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${duration(tick.durationMs)} · ${tick.exit}`;
    bar.append(title);
    svg.append(bar);
  });
  return svg;
}

function field(term, ...values) {
  return [el('dt', { text: term }), el('dd', {}, ...values)];
}

function collectorCard(c) {
  const key = `${c.input}/${c.collector}`;
  const next =
    c.health !== 'healthy' && c.retryAt
      ? `${c.health === 'quarantined' ? 'next try' : 'retry'} ${relative(c.retryAt)}`
      : c.service && c.state === 'running'
        ? 'running (service)'
        : relative(c.nextRun);
  const usage = [
    c.lastCpuMs !== undefined ? `${duration(c.lastCpuMs)} CPU` : undefined,
    c.lastPeakMemoryBytes !== undefined ? `${bytes(c.lastPeakMemoryBytes)} peak` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const card = el(
    'article',
    { className: `collector health-${c.health}`, data: { collector: key, health: c.health } },
    el(
      'header',
      {},
      el('h3', {}, el('span', { className: 'name', text: c.name }), ' ', el('small', { className: 'id', text: c.collector })),
      el('span', { className: `badge health ${c.health}`, text: HEALTH_TEXT[c.health] ?? c.health }),
      el('span', { className: `badge activity ${c.state}`, text: c.state }),
    ),
    c.recentTicks.length > 0 ? sparkline(c.recentTicks) : el('p', { className: 'muted', text: 'no tick yet' }),
    el(
      'dl',
      {},
      ...field('last run', c.lastRun ? `${relative(c.lastRun)} · ${c.lastExit ?? c.lastStatus}` : '–'),
      ...field('duration', duration(c.lastDurationMs)),
      ...field('CPU · memory', usage || '–'),
      ...field('points', c.lastPoints === undefined ? '–' : `${c.lastPoints} (${bytes(c.lastReportBytes)})`),
      ...field('next tick', next),
      ...field('runs', `${c.runs} · ${c.failures} failed${c.consecutiveFailures > 0 ? ` · ${c.consecutiveFailures} in a row` : ''}`),
      ...field('last success', relative(c.lastSuccess)),
      ...field('host', [c.host, c.image].filter(Boolean).join(' · ') || '–'),
    ),
  );
  if (c.lastError) {
    card.append(
      el(
        'details',
        { className: 'error', data: { key: `error ${key}` } },
        el('summary', { text: c.lastError }),
        el('pre', { text: c.lastTraceback || 'no traceback: the collector did not raise (see the error above)' }),
      ),
    );
  }
  return card;
}

function inputSection(input) {
  const section = el(
    'section',
    { className: 'input', data: { input: input.input } },
    el(
      'h2',
      {},
      el('span', { className: 'name', text: input.input || '(unnamed)' }),
      ' ',
      el('span', { className: `badge state ${input.state}`, text: input.state }),
      ' ',
      el('small', {
        text: [
          input.executor,
          input.mode,
          input.owner && `on ${input.owner}`,
          input.image && `image ${input.image.state}${input.image.tag ? ` ${input.image.tag}` : ''}`,
        ]
          .filter(Boolean)
          .join(' · '),
      }),
    ),
  );
  if (input.error) section.append(el('p', { className: 'error-text', text: input.error }));
  if (input.image?.error) {
    section.append(
      el(
        'details',
        { className: 'error', data: { key: `image ${input.input}` } },
        el('summary', { text: `image ${input.image.output?.length ? 'build ' : ''}failed: ${input.image.error}` }),
        el('pre', { text: (input.image.output ?? []).join('\n') }),
      ),
    );
  }
  for (const failed of input.loadErrors ?? []) {
    section.append(
      el(
        'details',
        { className: 'error', data: { key: `load ${input.input} ${failed.file}` } },
        el('summary', { text: `${failed.file}${failed.line ? `:${failed.line}` : ''}: ${failed.error}` }),
        el('pre', { text: failed.traceback || failed.error }),
      ),
    );
  }
  const cards = el('div', { className: 'collectors' });
  for (const collector of input.collectors) cards.append(collectorCard(collector));
  section.append(cards);
  return section;
}

function outputsSection(report) {
  const table = el(
    'table',
    {},
    el(
      'thead',
      {},
      el(
        'tr',
        {},
        el('th', { text: 'output' }),
        el('th', { text: 'to' }),
        el('th', { text: 'buffered' }),
        el('th', { text: 'last success' }),
        el('th', { text: 'last error' }),
      ),
    ),
  );
  const body = el('tbody');
  for (const output of report.outputs) {
    body.append(
      el(
        'tr',
        { data: { output: output.id } },
        el('td', { text: output.id }),
        el('td', { className: 'muted', text: output.target ?? '–' }),
        // An exposition endpoint buffers nothing: it holds the latest sample of each series.
        el('td', { text: output.series === undefined ? String(output.bufferedPoints) : `${output.series} series` }),
        el('td', { text: relative(output.lastSuccess) }),
        el('td', {
          className: output.lastError ? 'error-text' : 'muted',
          text: output.lastError ? `${output.lastError} (${relative(output.lastErrorAt)})` : '–',
        }),
      ),
    );
  }
  table.append(body);
  const parts = [el('h2', { text: 'Outputs' }), el('div', { className: 'scroll' }, table)];
  if (report.lastErrors.length > 0) {
    parts.push(el('h2', { text: 'Errors collectors reported (set_lasterror)' }));
    const list = el('ul', { className: 'reported' });
    for (const reported of report.lastErrors) {
      list.append(el('li', {}, el('strong', { text: reported.input }), `: ${reported.error} (${reported.count}×, last ${relative(reported.at)})`));
    }
    parts.push(list);
  }
  return parts;
}

function runnerLine(report) {
  const collectors = report.inputs.flatMap((input) => input.collectors);
  const byHealth = {};
  for (const c of collectors) byHealth[c.health] = (byHealth[c.health] ?? 0) + 1;
  const health = Object.entries(HEALTH_TEXT)
    .filter(([state]) => byHealth[state])
    .map(([state, text]) => `${byHealth[state]} ${text}`)
    .join(', ');
  const runner = report.runner ?? {};
  return [
    `version ${report.version}`,
    `up ${duration(report.uptimeMs)}`,
    `${report.executor ?? 'no'} runtime`,
    `concurrency ${runner.concurrency ?? '–'}`,
    `${collectors.length} collector${collectors.length === 1 ? '' : 's'}${health ? ` (${health})` : ''}`,
  ].join(' · ');
}

/** What is not healthy now (failing collectors, inputs, outputs, a reload that did not apply), one line each; hidden when all is well. */
function problemsSection(report) {
  const problems = report.problems ?? [];
  const section = document.getElementById('problems');
  section.hidden = problems.length === 0;
  const list = el('ul');
  for (const problem of problems) list.append(el('li', { text: problem.message, data: { about: problem.about } }));
  section.replaceChildren(el('h2', { text: `Not healthy (${problems.length})` }), list);
}

/** Draws `report`, keeping the tracebacks a reader opened open. */
function render(report) {
  const open = new Set([...document.querySelectorAll('details[open]')].map((details) => details.dataset.key));
  document.getElementById('runner').textContent = runnerLine(report);
  problemsSection(report);
  document.getElementById('inputs').replaceChildren(...report.inputs.map(inputSection));
  document.getElementById('outputs').replaceChildren(...outputsSection(report));
  for (const details of document.querySelectorAll('details')) if (open.has(details.dataset.key)) details.open = true;
}

let lastUpdate = 0;

async function poll() {
  const problem = document.getElementById('problem');
  try {
    const response = await fetch('/v1/collectors', { cache: 'no-store' });
    if (!response.ok) throw new Error(`/v1/collectors answered ${response.status}`);
    render(await response.json());
    lastUpdate = Date.now();
    problem.hidden = true;
  } catch (err) {
    problem.textContent = `the runner does not answer (${err.message}); showing what it said ${lastUpdate ? duration(Date.now() - lastUpdate) : 'never'} ago`;
    problem.hidden = false;
  }
  document.getElementById('updated').textContent = lastUpdate ? `updated ${new Date(lastUpdate).toLocaleTimeString()}, every ${POLL_MS / 1000} s` : '';
}

let timer;
function schedule() {
  clearTimeout(timer);
  // A hidden tab does not poll; it polls at once when shown again.
  if (!document.hidden) timer = setTimeout(() => poll().then(schedule), POLL_MS);
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden) poll().then(schedule);
});
poll().then(schedule);
