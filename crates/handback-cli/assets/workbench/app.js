// The Handback workbench. Everything it shows comes from POST /api, the requests `handback api`
// answers, so the page holds no rules and decides nothing: it asks and draws. All text from
// evidence, packs and scenarios is put in the page with textContent (through `el`), never as
// HTML, so a passage holding `<script>` is shown, not run.
'use strict';

const state = {
  session: null,
  pack: undefined, // request.pack, or undefined for the embedded pack
  evidence: null, // request.evidence: the file's text, or {csv, council}
  evidenceName: '',
  directions: undefined, // request.directions: the file's text
  observations: [], // the evidence's observations, when it is JSON
  dates: [], // the timeline's stops
  asOf: null, // the timeline's date, or null for the evidence's own
  rules: new Map(), // rule id -> `rules` answer entry
  sets: [], // the pack's criteria sets
  keys: [], // `template` answer
  assessment: null,
  plan: null,
  graph: null,
  whatif: null, // the last `whatif` answer, or an error
  changes: [], // the scenario's changes, in order
  view: 'scenario',
  baseGen: 0,
  scenarioGen: 0,
  requestId: 0,
};

// ---------------------------------------------------------------- helpers

/** An element with properties and children; strings become text nodes, never HTML. */
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function $(selector) {
  return document.querySelector(selector);
}

function clear(node) {
  node.replaceChildren();
  return node;
}

/** A value as the evidence writes it, in words. */
function show(value) {
  if (value === undefined || value === null) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

/** An outcome in words: `not_met` is "not met"; a grade is its level. */
function words(outcome) {
  return outcome === 'not_met' ? 'not met' : String(outcome);
}

function outcomeClass(outcome) {
  if (outcome === 'met') return 'o-met';
  if (outcome === 'not_met') return 'o-not-met';
  if (outcome === 'unknown') return 'o-unknown';
  return 'o-graded';
}

function badge(outcome, extra) {
  return el('span', { class: `badge ${outcomeClass(outcome)}${extra ? ' ' + extra : ''}` }, words(outcome));
}

function status(text) {
  $('#status').textContent = text;
}

function cellKey(rule, fn) {
  return `${rule}|${fn || ''}`;
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(error, httpStatus) {
    super(error && error.message ? error.message : `the server answered ${httpStatus}`);
    this.error = error || { kind: 'internal', message: this.message };
    this.httpStatus = httpStatus;
  }
}

/** Sends one request to POST /api and returns its result, or throws the response's error. */
async function call(op, fields) {
  const request = Object.assign({ id: ++state.requestId, op }, fields);
  let response;
  try {
    response = await fetch('/api', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(request),
    });
  } catch (e) {
    throw new ApiError({ kind: 'internal', message: `the workbench server cannot be reached (${e.message})` }, 0);
  }
  let answer;
  try {
    answer = await response.json();
  } catch (e) {
    throw new ApiError({ kind: 'internal', message: `the server's answer is not JSON (${response.status})` }, response.status);
  }
  if (!answer.ok) throw new ApiError(answer.error, response.status);
  return answer.result;
}

function packField() {
  return state.pack ? { pack: state.pack } : {};
}

/** The fields every question about the evidence starts from. */
function baseFields(withDirections) {
  const fields = Object.assign({ evidence: state.evidence }, packField());
  if (state.asOf) fields.as_of = state.asOf;
  if (withDirections && state.directions !== undefined) fields.directions = state.directions;
  return fields;
}

/** An error as words and, for invalid inputs, every located problem. */
function errorView(e, title) {
  const error = e instanceof ApiError ? e.error : { kind: 'internal', message: String(e) };
  const box = el('div', { class: 'error', role: 'alert' },
    el('p', {}, el('strong', {}, title || 'Not answered'), ` (${error.kind}): `, error.message || ''));
  if (error.problems && error.problems.length) {
    box.append(el('ul', {}, error.problems.map((p) =>
      el('li', {}, `${p.file}:${p.line}:${p.column}: ${p.path}: ${p.message}`))));
  }
  if (error.differences && error.differences.length) {
    box.append(el('ul', {}, error.differences.map((d) => el('li', {}, d))));
  }
  return box;
}

// ---------------------------------------------------------------- start

async function start() {
  wire();
  let session;
  try {
    const response = await fetch('/api/session');
    session = await response.json();
  } catch (e) {
    status(`Cannot reach the workbench server: ${e.message}`);
    return;
  }
  state.session = session;
  state.pack = session.pack || undefined;
  if (session.directions) {
    state.directions = session.directions.input;
    state.directionsName = session.directions.name;
  }
  $('#engine').textContent =
    `${session.engine}, API version ${session.api_version}; rules: ${session.pack_label}` +
    (session.directions ? `; Directions: ${session.directions.name}` : '; no Directions given');
  try {
    const [rules, template] = await Promise.all([call('rules', packField()), call('template', packField())]);
    for (const r of rules.rules) state.rules.set(r.id, r);
    state.sets = rules.pack.sets || [];
    state.keys = template.keys;
    state.packTitle = rules.pack.title;
  } catch (e) {
    clear($('#board-body')).append(errorView(e, 'The pack could not be read'));
    return;
  }
  fillKeyForms();
  if (session.evidence) {
    await useEvidence(session.evidence.input, session.evidence.name);
  } else {
    $('#about').textContent = 'No evidence yet: upload an evidence file to start.';
    status('Upload an evidence file to start.');
  }
}

/** Checks evidence as `handback lint` does; loads it only if it has no problem. */
async function useEvidence(input, name) {
  status(`Checking ${name}…`);
  let lint;
  try {
    lint = await call('lint', Object.assign(packField(), {
      evidence: [input],
      directions: state.directions !== undefined ? [state.directions] : [],
    }));
  } catch (e) {
    clear($('#problems')).append(errorView(e, `${name} could not be checked`));
    return false;
  }
  if (!lint.ok) {
    showProblems(name, input, lint.problems);
    status(`${name} was not loaded: ${lint.problems.length} problem${lint.problems.length === 1 ? '' : 's'}.`);
    location.hash = '#evidence';
    $('#evidence').focus();
    return false;
  }
  clear($('#problems'));
  if (lint.warnings && lint.warnings.length) {
    $('#problems').append(el('div', { class: 'warnings' },
      el('p', {}, `${name}: ${lint.warnings.length} warning(s), not problems:`),
      el('ul', {}, lint.warnings.map((w) => el('li', {}, `${w.file}:${w.line}:${w.column}: ${w.message}`)))));
  }
  state.evidence = input;
  state.evidenceName = name;
  state.observations = [];
  let doc = null;
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (e) {
      doc = null;
    }
  }
  state.observations = doc && Array.isArray(doc.observations) ? doc.observations : [];
  state.council = doc ? doc.council : (input && input.council) || '';
  state.evidenceAsOf = doc ? doc.as_of : undefined;
  state.dates = timelineDates(doc);
  state.asOf = null;
  state.changes = [];
  state.whatif = null;
  setUpTimeline();
  renderChanges();
  renderObservations();
  $('#evidence-about').textContent = `Open: ${name}` +
    (state.council ? ` (${state.council})` : '') +
    (doc ? `, ${state.observations.length} observations` : '') + '.';
  await refreshBase();
  return true;
}

// ---------------------------------------------------------------- the timeline

/** Every date the evidence speaks of, in order: the stops of the timeline. */
function timelineDates(doc) {
  const dates = new Set();
  if (doc && Array.isArray(doc.observations)) {
    for (const o of doc.observations) {
      if (!o || typeof o !== 'object') continue;
      if (typeof o.date === 'string') dates.add(o.date);
      if (o.period && typeof o.period.from === 'string') dates.add(o.period.from);
      if (o.period && typeof o.period.to === 'string') dates.add(o.period.to);
    }
  }
  if (doc && typeof doc.as_of === 'string') dates.add(doc.as_of);
  return [...dates].filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d)).sort();
}

function setUpTimeline() {
  const range = $('#timeline');
  const n = state.dates.length;
  range.disabled = n < 2;
  range.min = '0';
  range.max = String(Math.max(0, n - 1));
  const at = state.evidenceAsOf ? state.dates.indexOf(state.evidenceAsOf) : n - 1;
  range.value = String(at >= 0 ? at : n - 1);
  showTimelineDate();
}

function showTimelineDate() {
  const range = $('#timeline');
  const date = state.dates[Number(range.value)] || state.evidenceAsOf || '—';
  $('#timeline-date').textContent = date;
  range.setAttribute('aria-valuetext', `as of ${date}`);
  return date;
}

function onTimeline() {
  const date = showTimelineDate();
  state.asOf = date === '—' ? null : date;
  refreshBase();
}

// ---------------------------------------------------------------- asking

/** Asks for the assessment, plan and graph of the evidence as of the timeline's date, then the
 * scenario's difference. A newer question supersedes an older one still in flight. */
async function refreshBase() {
  if (state.evidence === null) return;
  const gen = ++state.baseGen;
  status(`Assessing ${state.evidenceName}${state.asOf ? ` as of ${state.asOf}` : ''}…`);
  const fields = baseFields(true);
  const assessFields = Object.assign({ explain: true }, baseFields(false));
  let assessment;
  let plan;
  let graph;
  try {
    [assessment, plan, graph] = await Promise.all([
      call('assess', assessFields),
      call('plan', fields),
      call('graph', Object.assign({ format: 'svg' }, fields)).catch((e) => ({ error: e })),
    ]);
  } catch (e) {
    if (gen !== state.baseGen) return;
    clear($('#board-body')).append(errorView(e, 'The evidence could not be assessed'));
    status(`Not assessed: ${e.message}`);
    return;
  }
  if (gen !== state.baseGen) return;
  state.assessment = assessment;
  state.plan = plan.plan;
  state.graph = graph;
  fillFunctionForms();
  if (!$('#asof-date').value) $('#asof-date').value = assessment.as_of;
  if (!$('#add-date').value) $('#add-date').value = assessment.as_of;
  await refreshScenario();
  if (gen !== state.baseGen) return;
  renderGraph();
  // Said last, once everything on the page is of this date.
  $('#about').textContent = `${assessment.council}: ${state.evidenceName}, as of ${assessment.as_of}` +
    (state.packTitle ? `. Rules: ${state.packTitle}` : '');
}

/** Asks for the explained difference the scenario makes, and redraws what shows it. */
async function refreshScenario() {
  const gen = ++state.scenarioGen;
  if (state.changes.length && state.evidence !== null) {
    try {
      const answer = await call('whatif', Object.assign(baseFields(true), { scenario: scenarioDocument() }));
      if (gen !== state.scenarioGen) return;
      state.whatif = answer;
    } catch (e) {
      if (gen !== state.scenarioGen) return;
      state.whatif = { error: e };
    }
  } else {
    state.whatif = null;
  }
  renderAll();
}

function renderAll() {
  $('#view-box').hidden = !(state.whatif && state.whatif.diff);
  renderBoard();
  renderPlan();
  renderDiff();
  renderChanges();
  markGraph();
  const a = state.assessment;
  if (!a) return;
  let text = `As of ${a.as_of}: ${a.results.length} verdicts.`;
  if (state.whatif && state.whatif.diff) {
    const n = state.whatif.diff.outcomes.length;
    text += ` The scenario changes ${n} verdict${n === 1 ? '' : 's'}.`;
  } else if (state.whatif && state.whatif.error) {
    text += ' The scenario could not be applied: see What if.';
  }
  status(text);
}

/** The scenario's changes, by (rule, function), when the board shows the scenario. */
function scenarioChanges() {
  const map = new Map();
  if (state.view !== 'scenario' || !state.whatif || !state.whatif.diff) return map;
  for (const c of state.whatif.diff.outcomes) map.set(cellKey(c.rule, c.function), c);
  return map;
}

// ---------------------------------------------------------------- the board

function renderBoard() {
  const body = clear($('#board-body'));
  const a = state.assessment;
  if (!a) return;
  const changed = scenarioChanges();
  const groups = new Map();
  for (const s of state.sets) groups.set(s.id, { title: s.title, citation: s.citation, results: [] });
  for (const r of a.results) {
    const id = r.set || '';
    if (!groups.has(id)) groups.set(id, { title: id ? id : 'Overall', results: [] });
    groups.get(id).results.push(r);
  }
  if (groups.has('')) {
    // The rules that combine the sets come last, after the sets they read.
    const overall = groups.get('');
    groups.delete('');
    groups.set('', overall);
  }
  for (const [id, group] of groups) {
    if (!group.results.length) continue;
    const section = el('section', { class: 'set', 'data-set': id || 'overall' },
      el('h3', {}, group.title),
      group.citation ? el('p', { class: 'cite' }, `${group.citation.source}, ${group.citation.at}`) : null);
    const councilWide = group.results.filter((r) => !r.function);
    const perFunction = group.results.filter((r) => r.function);
    if (councilWide.length) {
      section.append(el('ul', { class: 'cells' }, councilWide.map((r) => el('li', {}, cell(r, changed, true)))));
    }
    if (perFunction.length) section.append(matrix(perFunction, changed));
    body.append(section);
  }
}

/** Per-function verdicts as a matrix: a row per function, a column per rule. */
function matrix(results, changed) {
  const rules = [...new Set(results.map((r) => r.rule))];
  const functions = [...new Set(results.map((r) => r.function))];
  const at = new Map(results.map((r) => [cellKey(r.rule, r.function), r]));
  const titles = functionTitles();
  return el('table', { class: 'matrix' },
    el('thead', {}, el('tr', {},
      el('th', { scope: 'col' }, 'Function'),
      rules.map((id) => {
        const r = results.find((x) => x.rule === id);
        return el('th', { scope: 'col', title: r ? r.title : id }, id, el('span', { class: 'sub' }, r ? r.title : ''));
      }))),
    el('tbody', {}, functions.map((fn) => el('tr', {},
      el('th', { scope: 'row' }, titles.get(fn) || fn, el('span', { class: 'sub' }, fn)),
      rules.map((id) => {
        const r = at.get(cellKey(id, fn));
        return el('td', {}, r ? cell(r, changed, false) : '');
      })))));
}

function functionTitles() {
  const map = new Map();
  if (state.plan) for (const f of state.plan.functions) map.set(f.id, f.title);
  return map;
}

/** One verdict: a button in words (and colour), opening its explanation. */
function cell(r, changed, long) {
  const change = changed.get(cellKey(r.rule, r.function));
  const outcome = change ? change.after : r.outcome;
  const label = `${r.rule} ${r.title}${r.function ? ` for ${r.function}` : ''}: ${words(outcome)}` +
    (change ? `, changed by the scenario from ${words(change.before)}` : '');
  return el('button', {
    type: 'button',
    class: `cell ${outcomeClass(outcome)}${change ? ' changed' : ''}`,
    'data-rule': r.rule,
    'data-function': r.function || '',
    'data-outcome': outcome,
    'aria-label': label,
    title: label,
    onclick: () => explain(r),
  },
  long ? el('span', { class: 'rule' }, r.rule) : null,
  long ? el('span', { class: 'title' }, r.title) : null,
  el('span', { class: 'word' }, words(outcome)),
  change ? el('span', { class: 'was' }, `changed, was ${words(change.before)}`) : null);
}

// ---------------------------------------------------------------- explanations

function explain(r) {
  const panel = clear($('#explain'));
  const info = state.rules.get(r.rule);
  const heading = el('h2', { id: 'explain-title', tabindex: '-1' },
    `${r.rule}: ${r.title}`, r.function ? ` (${r.function})` : '');
  panel.append(heading);
  panel.append(el('p', {}, 'Verdict on the evidence: ', badge(r.outcome),
    r.basis ? ` resting at weakest on ${r.basis}` : ''));
  const change = scenarioChanges().get(cellKey(r.rule, r.function));
  if (change) {
    panel.append(el('div', { class: 'scenario-note' },
      el('p', {}, 'In the scenario: ', badge(change.before), ' → ', badge(change.after, 'changed')),
      el('ul', {}, (change.causes || []).map((c) => el('li', {}, `because ${c}`)))));
  }
  if (info) {
    panel.append(el('h3', {}, 'What the rule says'));
    panel.append(el('blockquote', {}, info.quote));
    if (info.citation) panel.append(el('p', { class: 'cite' }, `${info.citation.source}, ${info.citation.at}`));
    panel.append(el('p', { class: 'reading' }, info.reading));
  }
  panel.append(el('h3', {}, 'Why'));
  if (r.reason) panel.append(el('ul', { class: 'reason' }, reasonNode(r.reason)));
  else panel.append(el('p', {}, 'No reasons were given.'));
  panel.append(el('p', {}, el('button', {
    type: 'button',
    onclick: () => {
      const back = document.querySelector(`#board-body button[data-rule="${CSS.escape(r.rule)}"][data-function="${CSS.escape(r.function || '')}"]`);
      if (back) back.focus();
    },
  }, 'Back to the board')));
  heading.focus();
}

function reasonNode(node) {
  const li = el('li', {}, badge(node.outcome), ' ', el('span', { class: 'says' }, node.says || ''));
  if (node.because) li.append(el('p', { class: 'because' }, `because ${node.because}`));
  const facts = [];
  if (node.threshold) {
    const t = node.threshold;
    facts.push(`threshold: ${show(t.value)}${t.parameter ? ` (parameter ${t.parameter})` : ''}`);
  }
  if (node.margin !== undefined) facts.push(`margin: ${show(node.margin)}`);
  for (const [k, v] of Object.entries(node)) {
    if (!['outcome', 'says', 'because', 'threshold', 'margin', 'evidence', 'parts'].includes(k)) facts.push(`${k}: ${show(v)}`);
  }
  if (facts.length) li.append(el('p', { class: 'facts' }, facts.join('; ')));
  if (node.evidence && node.evidence.length) li.append(evidenceTable(node.evidence));
  if (node.parts && node.parts.length) li.append(el('ul', {}, node.parts.map(reasonNode)));
  return li;
}

function evidenceTable(list) {
  return el('table', { class: 'evidence' },
    el('caption', {}, 'Evidence used'),
    el('thead', {}, el('tr', {}, ['Observation', 'Value', 'Date', 'Basis', 'Source', 'Judged by']
      .map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, list.map((e) => el('tr', {},
      el('td', {}, e.id, e.function ? el('span', { class: 'sub' }, e.function) : null),
      el('td', {}, show(e.value)),
      el('td', {}, e.date || ''),
      el('td', {}, e.basis || ''),
      el('td', {}, e.source ? [el('span', { class: 'doc' }, e.source.document), el('span', { class: 'passage' }, e.source.passage)] : ''),
      el('td', {}, e.judged_by || '')))));
}

// ---------------------------------------------------------------- the plan

function renderPlan() {
  const body = clear($('#plan-body'));
  const p = state.plan;
  if (!p) return;
  const diff = state.view === 'scenario' && state.whatif && state.whatif.diff;
  const fnChanges = new Map(diff ? diff.functions.map(([id, before, after]) => [id, { before, after }]) : []);
  body.append(el('p', { class: 'phase' }, el('strong', {}, `Phase ${p.phase.number}: `), p.phase.name,
    p.directions ? '' : ' (no Directions given: every function is taken as held)'));
  if (p.phase.reasons && p.phase.reasons.length) body.append(el('ul', {}, p.phase.reasons.map((r) => el('li', {}, r))));

  const safeguards = new Map(p.functions.map((f) => [f.id, f.safeguard]));
  const tranche = new Map(p.tranche.map((t) => [t.function, { safeguard: t.safeguard, mark: '' }]));
  if (diff) {
    for (const id of diff.tranche[0]) tranche.set(id, { safeguard: safeguards.get(id), mark: 'added' });
    for (const id of diff.tranche[1]) if (tranche.has(id)) tranche.get(id).mark = 'removed';
  }
  body.append(el('h3', {}, 'Recommended tranche', diff ? ' (in the scenario)' : ''));
  const list = el('ul', { id: 'tranche' });
  for (const [id, t] of tranche) {
    list.append(el('li', { class: t.mark ? `changed ${t.mark}` : '', 'data-function': id },
      el('strong', {}, id), t.safeguard ? `, with ${t.safeguard} as the safeguard` : '',
      t.mark === 'added' ? el('span', { class: 'badge changed' }, 'added by the scenario') : null,
      t.mark === 'removed' ? el('span', { class: 'badge changed' }, 'removed by the scenario') : null));
  }
  if (!tranche.size) list.append(el('li', { class: 'none' }, 'None: no function can be recommended now.'));
  body.append(list);

  if (p.awaiting && p.awaiting.length) {
    body.append(el('h3', {}, 'Recommended, awaiting the decision'));
    body.append(el('ul', {}, p.awaiting.map((w) => el('li', {},
      el('strong', {}, w.function), ` recommended ${w.recommended}, safeguard ${w.safeguard}`,
      w.source ? el('span', { class: 'passage' }, `${w.source.document}: ${w.source.passage}`) : null))));
  }

  body.append(el('h3', {}, 'Every function'));
  body.append(el('table', { class: 'functions' },
    el('thead', {}, el('tr', {}, ['Function', 'Held by', 'Ready', 'Step', 'Phase', 'Safeguard', 'What blocks it']
      .map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, p.functions.map((f) => {
      const change = fnChanges.get(f.id);
      return el('tr', { 'data-function': f.id, class: change ? 'changed' : '' },
        el('th', { scope: 'row', tabindex: '-1' }, f.title, el('span', { class: 'sub' }, f.id)),
        el('td', {}, f.power, f.since ? el('span', { class: 'sub' }, `since ${f.since}`) : null),
        el('td', {}, words(f.ready), f.ready_because ? el('span', { class: 'sub' }, f.ready_because) : null,
          change ? el('span', { class: 'badge changed' }, `scenario: ${change.after} (was ${change.before})`) : null),
        el('td', {}, (f.step || '').replace(/_/g, ' ')),
        el('td', {}, f.projected_phase !== undefined ? String(f.projected_phase) : ''),
        el('td', {}, f.safeguard || ''),
        el('td', {}, (f.blockers || []).length ? el('ul', {}, f.blockers.map((b) => el('li', {},
          b.rule ? `${b.rule} ${b.title || ''}${b.outcome ? ` (${words(b.outcome)})` : ''}` : (b.kind || ''),
          b.signals && b.signals.length ? el('ul', {}, b.signals.map((s) => el('li', { class: 'sub' }, s))) : null,
          b.message ? el('span', { class: 'sub' }, b.message) : null))) : ''));
    }))));

  const exit = p.exit;
  const exitChange = diff && diff.exit[0] !== diff.exit[1];
  const possible = exitChange ? diff.exit[1] : exit.possible;
  body.append(el('h3', {}, 'The end of the intervention'));
  body.append(el('p', { class: exitChange ? 'changed' : '' }, possible ? 'Possible now.' : 'Not yet possible.',
    exitChange ? el('span', { class: 'badge changed' }, `changed by the scenario, was ${diff.exit[0] ? 'possible' : 'not possible'}`) : null));
  if (!possible && exit.needs && exit.needs.length && !exitChange) {
    body.append(el('ul', {}, exit.needs.map((n) => el('li', {}, n))));
  }
}

// ---------------------------------------------------------------- the graph

/** The graph as the CLI draws it, put in the page as SVG elements, with anything that could run
 * taken out first (scripts, foreign objects, event attributes, links); then each function's box
 * becomes a button. */
function renderGraph() {
  const box = clear($('#graph'));
  const g = state.graph;
  if (!g) return;
  if (g.error) {
    box.append(errorView(g.error, 'No graph'));
    return;
  }
  const doc = new DOMParser().parseFromString(g.text, 'image/svg+xml');
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== 'svg') {
    box.append(el('p', {}, 'The graph could not be drawn.'));
    return;
  }
  for (const bad of svg.querySelectorAll('script, foreignObject, a, iframe, use')) bad.remove();
  for (const node of [svg, ...svg.querySelectorAll('*')]) {
    for (const attr of [...node.attributes]) {
      if (/^on/i.test(attr.name) || /href$/i.test(attr.name)) node.removeAttribute(attr.name);
    }
  }
  svg.setAttribute('role', 'group');
  svg.setAttribute('aria-label', 'Function graph: prerequisites, who holds what, when each can come back');
  const ids = new Set(state.plan ? state.plan.functions.map((f) => f.id) : []);
  for (const group of svg.querySelectorAll('g')) {
    // A function's box, as `picture.rs` draws it: its title, then its id as the first text.
    const text = group.querySelector('text');
    const title = group.querySelector('title');
    const id = text ? text.textContent : null;
    if (!id || !ids.has(id)) continue;
    group.setAttribute('tabindex', '0');
    group.setAttribute('role', 'button');
    group.setAttribute('class', 'node');
    group.setAttribute('data-function', id);
    group.setAttribute('aria-label', `${title ? title.textContent : id} (${id}): show in the plan`);
  }
  box.append(document.importNode(svg, true));
  for (const group of box.querySelectorAll('g.node')) {
    const id = group.getAttribute('data-function');
    group.addEventListener('click', () => selectFunction(id));
    group.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        selectFunction(id);
      }
    });
  }
  markGraph();
}

/** Marks the functions the scenario changes on the graph. */
function markGraph() {
  const diff = state.view === 'scenario' && state.whatif && state.whatif.diff;
  const changed = new Set(diff ? diff.functions.map(([id]) => id) : []);
  for (const group of document.querySelectorAll('#graph g.node')) {
    group.classList.toggle('changed', changed.has(group.getAttribute('data-function')));
  }
}

function selectFunction(id) {
  for (const row of document.querySelectorAll('#plan-body tr.selected')) row.classList.remove('selected');
  const row = document.querySelector(`#plan-body tr[data-function="${CSS.escape(id)}"]`);
  if (row) {
    row.classList.add('selected');
    row.scrollIntoView({ block: 'center' });
    row.querySelector('th').focus();
  }
  const target = $('#needs-target');
  const value = `function:${id}`;
  if ([...target.options].some((o) => o.value === value)) target.value = value;
}

// ---------------------------------------------------------------- what if

function scenarioDocument() {
  return { title: $('#scenario-title').value.trim() || 'workbench scenario', changes: state.changes };
}

function describe(change) {
  if (change.set) {
    const s = change.set;
    return `set ${s.key}${s.function ? ` for ${s.function}` : ''} to ${show(s.value)}${s.date ? ` on ${s.date}` : ''}`;
  }
  if (change.remove !== undefined) return `remove observation ${change.remove}`;
  if (change.param) return `set parameter ${change.param.name} to ${show(change.param.value)}`;
  if (change.as_of) return `assess the scenario as of ${change.as_of}`;
  return JSON.stringify(change);
}

function addChanges(...changes) {
  state.changes.push(...changes);
  refreshScenario();
}

function renderChanges() {
  const list = clear($('#changes'));
  const located = new Set();
  const error = state.whatif && state.whatif.error instanceof ApiError ? state.whatif.error.error : null;
  for (const p of (error && error.problems) || []) {
    const m = /^\$\.changes\[(\d+)\]/.exec(p.path || '');
    if (m) located.add(Number(m[1]));
  }
  if (!state.changes.length) list.append(el('li', { class: 'none' }, 'No changes yet.'));
  state.changes.forEach((c, i) => {
    list.append(el('li', { class: located.has(i) ? 'has-problem' : '' },
      describe(c), located.has(i) ? el('span', { class: 'badge o-not-met' }, 'problem: see below') : null, ' ',
      el('button', {
        type: 'button',
        'aria-label': `Undo change ${i + 1}: ${describe(c)}`,
        onclick: () => {
          state.changes.splice(i, 1);
          refreshScenario();
        },
      }, 'Undo')));
  });
}

function keyInfo(key) {
  return state.keys.find((k) => k.key === key);
}

/** A value typed in a form, as JSON: true/false for a yes-or-no key, a number when it reads
 * as one; anything else as written, for the engine to check (and locate) as it checks files. */
function parseValue(key, text) {
  const t = text.trim();
  const info = keyInfo(key);
  if (info && info.type === 'boolean') {
    if (/^(true|yes)$/i.test(t)) return true;
    if (/^(false|no)$/i.test(t)) return false;
  }
  if (info && info.type === 'number' && t !== '' && Number.isFinite(Number(t))) return Number(t);
  return t;
}

function valueInput(key, value, label) {
  const info = keyInfo(key);
  if (info && info.type === 'boolean') {
    const select = el('select', { 'aria-label': label },
      el('option', { value: 'true' }, 'true'), el('option', { value: 'false' }, 'false'));
    select.value = value === false ? 'false' : 'true';
    return select;
  }
  return el('input', { type: 'text', size: '10', value: value === undefined ? '' : show(value), 'aria-label': label });
}

function renderObservations() {
  const box = clear($('#observations'));
  if (!state.observations.length) {
    box.append(el('p', { class: 'hint' }, 'The observations are listed when the evidence is JSON.'));
    return;
  }
  const table = el('table', { class: 'observations' },
    el('thead', {}, el('tr', {}, ['Observation', 'Key', 'Function', 'Value', 'Date', '']
      .map((h) => el('th', { scope: 'col' }, h)))));
  const tbody = el('tbody');
  for (const o of state.observations) {
    const date = o.date || (o.period ? o.period.to : '');
    const row = el('tr', { 'data-observation': o.id },
      el('td', {}, o.id),
      el('td', {}, o.key),
      el('td', {}, o.function || ''),
      el('td', {}, show(o.value)),
      el('td', {}, o.date || (o.period ? `${o.period.from} to ${o.period.to}` : '')),
      el('td', {},
        el('button', { type: 'button', class: 'change-observation', 'aria-label': `Change ${o.id}`, onclick: () => editObservation(row, o, date) }, 'Change'),
        ' ',
        el('button', { type: 'button', 'aria-label': `Remove ${o.id}`, onclick: () => addChanges({ remove: o.id }) }, 'Remove')));
    tbody.append(row);
  }
  table.append(tbody);
  box.append(table);
}

/** An observation's value or date changed: a `set` on its key and function (which supersedes
 * what the evidence said on that day), and, if the date moves, the old one removed. */
function editObservation(row, o, date) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains('edit-row')) {
    next.querySelector('input, select').focus();
    return;
  }
  const value = valueInput(o.key, o.value, `New value of ${o.id}`);
  value.classList.add('edit-value');
  const day = el('input', { type: 'date', value: date, 'aria-label': `New date of ${o.id}`, class: 'edit-date' });
  const form = el('form', {
    class: 'row-form',
    onsubmit: (e) => {
      e.preventDefault();
      const changes = [];
      if (day.value && day.value !== date) changes.push({ remove: o.id });
      const set = { key: o.key, value: parseValue(o.key, value.value) };
      if (o.function) set.function = o.function;
      set.date = day.value || date;
      changes.push({ set });
      editRow.remove();
      addChanges(...changes);
    },
  }, value, day, el('button', { type: 'submit' }, 'Apply'),
  el('button', { type: 'button', onclick: () => editRow.remove() }, 'Cancel'));
  const editRow = el('tr', { class: 'edit-row' }, el('td', { colspan: '6' }, form));
  row.after(editRow);
  value.focus();
}

function fillKeyForms() {
  const keySelect = clear($('#add-key'));
  for (const k of state.keys) keySelect.append(el('option', { value: k.key }, k.key));
  const params = clear($('#param-name'));
  const note = () => {
    const info = keyInfo(keySelect.value);
    $('#add-function-label').hidden = !(info && info.scope === 'function');
    $('#add-key-help').textContent = info ? `${info.key} (${info.type}${info.scale ? ` on scale ${info.scale}` : ''}${info.unit ? `, ${info.unit}` : ''}): ${info.description || ''}` : '';
  };
  keySelect.addEventListener('change', note);
  note();
  params.append(el('option', { value: '' }, '(choose)'));
}

function fillFunctionForms() {
  const fnSelect = $('#add-function');
  const previous = fnSelect.value;
  clear(fnSelect);
  for (const f of state.plan ? state.plan.functions : []) fnSelect.append(el('option', { value: f.id }, `${f.title} (${f.id})`));
  if (previous) fnSelect.value = previous;
  const params = $('#param-name');
  const chosen = params.value;
  clear(params);
  for (const p of state.assessment ? state.assessment.parameters : []) {
    params.append(el('option', { value: p.name }, `${p.name} (now ${show(p.value)})`));
  }
  if (chosen) params.value = chosen;
  const target = $('#needs-target');
  const aim = target.value;
  clear(target);
  target.append(el('option', { value: 'exit' }, 'the end of the intervention'));
  const fns = el('optgroup', { label: 'A function returned' });
  for (const f of state.plan ? state.plan.functions : []) fns.append(el('option', { value: `function:${f.id}` }, f.title));
  const rules = el('optgroup', { label: 'A council-wide rule met' });
  for (const r of state.rules.values()) if (!r.per_function) rules.append(el('option', { value: `rule:${r.id}` }, `${r.id}: ${r.title}`));
  target.append(fns, rules);
  if (aim) target.value = aim;
}

function renderDiff() {
  const box = clear($('#diff'));
  const w = state.whatif;
  if (!w) return;
  if (w.error) {
    box.append(errorView(w.error, 'The scenario could not be applied'));
    return;
  }
  const d = w.diff;
  box.append(el('h3', {}, `What changes: ${w.scenario}`));
  if (d.as_of[0] !== d.as_of[1]) box.append(el('p', {}, `As of ${d.as_of[0]} → ${d.as_of[1]}.`));
  const empty = !d.outcomes.length && !d.functions.length && !d.tranche[0].length && !d.tranche[1].length && d.exit[0] === d.exit[1];
  if (empty) {
    box.append(el('p', { class: 'nothing' }, 'Nothing changes: every verdict, the plan and the exit stay as they are.'));
    return;
  }
  if (d.outcomes.length) {
    box.append(el('table', { class: 'diff' },
      el('caption', {}, 'Verdicts that change (criteria first)'),
      el('thead', {}, el('tr', {}, ['Verdict', 'Function', 'Base', 'Scenario', 'Because'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, d.outcomes.map((c) => el('tr', { 'data-rule': c.rule, 'data-function': c.function || '' },
        el('th', { scope: 'row' }, c.rule, c.criterion ? '' : el('span', { class: 'sub' }, 'helper')),
        el('td', {}, c.function || ''),
        el('td', {}, badge(c.before)),
        el('td', {}, badge(c.after, 'after')),
        el('td', {}, el('ul', {}, (c.causes || []).map((x) => el('li', {}, x)))))))));
  }
  if (d.functions.length) {
    box.append(el('table', { class: 'diff' },
      el('caption', {}, 'Functions whose readiness or timing changes'),
      el('thead', {}, el('tr', {}, ['Function', 'Base', 'Scenario'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, d.functions.map(([id, before, after]) => el('tr', {},
        el('th', { scope: 'row' }, id), el('td', {}, before), el('td', { class: 'changed' }, after))))));
  }
  if (d.tranche[0].length || d.tranche[1].length) {
    box.append(el('p', { class: 'tranche-change' }, 'Recommended tranche: ',
      d.tranche[0].map((id) => el('span', { class: 'badge changed' }, `+ ${id}`)),
      d.tranche[1].map((id) => el('span', { class: 'badge changed' }, `− ${id}`))));
  }
  if (d.exit[0] !== d.exit[1]) {
    box.append(el('p', {}, `The end of the intervention: ${d.exit[0] ? 'possible' : 'not possible'} → ${d.exit[1] ? 'possible' : 'not possible'}.`));
  }
}

// ---------------------------------------------------------------- saving and loading scenarios

function saveScenario() {
  const doc = scenarioDocument();
  const name = `${doc.title.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'scenario'}.json`;
  download(name, JSON.stringify(doc, null, 2) + '\n', 'application/json');
  return name;
}

/** Loads scenario files; a chain (one `extends` another) is put in order, base first, and its
 * changes applied in that order, as `whatif --scenario` applies a chain. */
async function loadScenarios(fileList) {
  const files = [...fileList];
  const docs = [];
  for (const f of files) {
    try {
      const doc = JSON.parse(await f.text());
      if (!doc || typeof doc !== 'object' || !Array.isArray(doc.changes)) throw new Error('not a scenario: it has no `changes` list');
      docs.push({ name: f.name, doc });
    } catch (e) {
      clear($('#diff')).append(el('div', { class: 'error', role: 'alert' }, `${f.name}: ${e.message}`));
      return;
    }
  }
  const byName = new Map(docs.map((d) => [d.name, d]));
  const ordered = [];
  const place = (d, depth) => {
    if (ordered.includes(d)) return true;
    if (depth > docs.length) return false;
    if (d.doc.extends) {
      const base = byName.get(d.doc.extends);
      if (!base) {
        clear($('#diff')).append(el('div', { class: 'error', role: 'alert' },
          `${d.name} extends ${d.doc.extends}: choose both files together.`));
        return false;
      }
      if (!place(base, depth + 1)) return false;
    }
    ordered.push(d);
    return true;
  };
  for (const d of docs) if (!place(d, 0)) return;
  state.changes = ordered.flatMap((d) => d.doc.changes);
  $('#scenario-title').value = ordered.map((d) => d.doc.title).filter(Boolean).join(' + ') || 'loaded scenario';
  refreshScenario();
}

// ---------------------------------------------------------------- what it would take

async function findNeeds(e) {
  e.preventDefault();
  const box = clear($('#needs-result'));
  const target = $('#needs-target').value;
  const limit = Math.max(1, Math.min(20, Number($('#needs-limit').value) || 5));
  box.append(el('p', {}, 'Searching…'));
  let answer;
  try {
    answer = await call('needs', Object.assign(baseFields(true), { target, limit }));
  } catch (err) {
    clear(box).append(errorView(err, 'No answer'));
    return;
  }
  clear(box);
  if (answer.met) {
    box.append(el('p', {}, `${target} is met already, as of ${answer.as_of}.`));
    return;
  }
  if (!answer.sets.length) box.append(el('p', {}, 'No set of evidence changes was found that meets it.'));
  const list = el('ol', { class: 'options' });
  answer.sets.forEach((set, i) => {
    list.append(el('li', {},
      el('p', {}, el('strong', {}, `Option ${i + 1}: `),
        `${set.changes.length} change${set.changes.length === 1 ? '' : 's'}, distance ${show(set.distance)}, from ${set.earliest}; `,
        set.checked ? 'checked: applying it meets the target.' : 'not confirmed by applying it.',
        ' ',
        el('button', { type: 'button', class: 'apply-option', onclick: () => applyOption(set, answer.as_of) }, `Apply option ${i + 1} as the scenario`)),
      el('table', { class: 'needs' },
        el('thead', {}, el('tr', {}, ['Key', 'Function', 'Needs', 'Value', 'Now'].map((h) => el('th', { scope: 'col' }, h)))),
        el('tbody', {}, set.changes.map((c) => el('tr', {},
          el('td', {}, c.key), el('td', {}, c.function || ''), el('td', {}, c.needs || ''),
          el('td', {}, show(c.value)),
          el('td', {}, c.current === undefined ? 'no observation' : `${show(c.current)}${c.current_date ? ` (${c.current_date})` : ''}${c.stale ? ', stale' : ''}`)))))));
  });
  box.append(list);
  if (answer.more) box.append(el('p', {}, `${answer.more} more option(s) beyond these.`));
  if (answer.blocks && answer.blocks.length) {
    box.append(el('h3', {}, 'What stands in the way'), el('ul', {}, answer.blocks.map((b) => el('li', {}, b))));
  }
  if (answer.heuristic) box.append(el('p', { class: 'hint' }, 'Part of this search is heuristic: other options may exist.'));
}

/** An option as a scenario, as `needs --scenario-out` writes it: each value set on the as-of
 * date (a sustained condition's baseline first), evaluated on the option's earliest day. */
function applyOption(set, asOf) {
  const changes = [];
  for (const c of set.changes) {
    if (c.baseline) changes.push({ set: withFunction({ key: c.key, value: c.baseline.value, date: c.baseline.date }, c.function) });
    changes.push({ set: withFunction({ key: c.key, value: c.value, date: asOf }, c.function) });
  }
  if (set.earliest && set.earliest !== asOf) changes.push({ as_of: set.earliest });
  state.changes = changes;
  $('#scenario-title').value = `what it would take: ${$('#needs-target').value}`;
  refreshScenario().then(() => {
    location.hash = '#whatif';
    $('#whatif').focus();
  });
}

function withFunction(set, fn) {
  if (fn) set.function = fn;
  return set;
}

// ---------------------------------------------------------------- upload and problems

async function onUpload(e) {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file) return;
  if (file.size > state.session.max_request_bytes) {
    clear($('#problems')).append(el('div', { class: 'error', role: 'alert' },
      `${file.name} is ${file.size} bytes; the workbench takes at most ${state.session.max_request_bytes}.`));
    return;
  }
  const text = await file.text();
  const csv = /\.csv$/i.test(file.name);
  const input = csv ? { csv: text, council: file.name.replace(/\.csv$/i, '') } : text;
  await useEvidence(input, file.name);
}

/** Every problem beside the line it is on: the file's lines around each problem, numbered, with
 * the problems under them; problems of another input (the Directions) listed first. */
function showProblems(name, input, problems) {
  const box = clear($('#problems'));
  const text = typeof input === 'string' ? input : input && input.csv ? input.csv : '';
  const lines = text.split('\n');
  box.append(el('h3', {}, `${name} was not loaded: ${problems.length} problem${problems.length === 1 ? '' : 's'}`));
  box.append(el('p', {}, state.evidence !== null ? `The workbench still shows ${state.evidenceName}.` : 'Fix them and upload it again.'));
  const ours = (p) => /^request\.evidence/.test(p.file) && p.line >= 1 && p.line <= lines.length;
  const elsewhere = problems.filter((p) => !ours(p));
  if (elsewhere.length) {
    box.append(el('ul', { class: 'problem-list' }, elsewhere.map((p) =>
      el('li', {}, `${p.file}${p.line ? `:${p.line}:${p.column}` : ''}: ${p.path ? `${p.path}: ` : ''}${p.message}`))));
  }
  const byLine = new Map();
  for (const p of problems.filter(ours)) {
    if (!byLine.has(p.line)) byLine.set(p.line, []);
    byLine.get(p.line).push(p);
  }
  const shown = new Set();
  for (const line of byLine.keys()) for (let n = line - 2; n <= line + 1; n++) if (n >= 1 && n <= lines.length) shown.add(n);
  const table = el('table', { class: 'file-lines' }, el('caption', {}, `${name}, the lines with problems`));
  const tbody = el('tbody');
  let last = 0;
  for (const n of [...shown].sort((a, b) => a - b)) {
    if (n > last + 1) tbody.append(el('tr', { class: 'gap' }, el('td', { colspan: '2' }, '…')));
    last = n;
    const has = byLine.has(n);
    tbody.append(el('tr', { class: has ? 'line has-problem' : 'line', 'data-line': n },
      el('th', { scope: 'row' }, String(n)), el('td', {}, el('code', {}, lines[n - 1]))));
    for (const p of byLine.get(n) || []) {
      tbody.append(el('tr', { class: 'problem', 'data-line': n },
        el('td', {}, el('span', { class: 'badge o-not-met' }, 'problem')),
        el('td', {}, `line ${p.line}, column ${p.column}, ${p.path}: ${p.message}`)));
    }
  }
  table.append(tbody);
  if (byLine.size) box.append(table);
}

// ---------------------------------------------------------------- export

async function exportReport() {
  const out = $('#export-status');
  out.textContent = 'Writing the report…';
  try {
    const answer = await call('report', baseFields(true));
    download('report.json', answer.report, 'application/json');
    out.textContent = `report.json written (digest ${answer.digest}). Check it with: handback verify report.json`;
  } catch (e) {
    clear(out).append(errorView(e, 'No report'));
  }
}

// ---------------------------------------------------------------- wiring

function wire() {
  $('#timeline').addEventListener('change', onTimeline);
  $('#timeline').addEventListener('input', showTimelineDate);
  for (const radio of document.querySelectorAll('input[name="view"]')) {
    radio.addEventListener('change', () => {
      state.view = document.querySelector('input[name="view"]:checked').value;
      renderAll();
    });
  }
  $('#clear-changes').addEventListener('click', () => {
    state.changes = [];
    refreshScenario();
  });
  $('#save-scenario').addEventListener('click', saveScenario);
  $('#export-scenario').addEventListener('click', () => {
    $('#export-status').textContent = `${saveScenario()} written.`;
  });
  $('#load-scenario').addEventListener('change', (e) => {
    loadScenarios(e.target.files);
    e.target.value = '';
  });
  $('#scenario-title').addEventListener('change', () => {
    if (state.changes.length) refreshScenario();
  });
  $('#add-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('#add-key').value;
    const info = keyInfo(key);
    const set = { key, value: parseValue(key, $('#add-value').value) };
    if (info && info.scope === 'function') set.function = $('#add-function').value;
    if ($('#add-date').value) set.date = $('#add-date').value;
    addChanges({ set });
  });
  $('#param-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('#param-name').value;
    if (!name) return;
    const text = $('#param-value').value.trim();
    const value = text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
    addChanges({ param: { name, value } });
  });
  $('#asof-form').addEventListener('submit', (e) => {
    e.preventDefault();
    addChanges({ as_of: $('#asof-date').value });
  });
  $('#needs-form').addEventListener('submit', findNeeds);
  $('#upload').addEventListener('change', onUpload);
  $('#export-report').addEventListener('click', exportReport);
  $('#print').addEventListener('click', () => window.print());
}

document.addEventListener('DOMContentLoaded', start);
