/**
 * The test bench: a sandbox run of a process or of a pipeline's robots on a copy of a deal,
 * driven by CRM events and a virtual clock, watched on the diagram, the deal's stage and a log.
 *
 * Talks to the test-runs API (POST /test-runs, /test-runs/{id}/events, /advance, GET state,
 * /log, /case); until that API is deployed the screen says so and stays usable for setup.
 */
import { api, once } from '../api.js';
import { h, clear, toast, table, debounce, download } from '../ui.js';
import { t, formatDateTime, language } from '../i18n.js';
import { fieldForm } from '../forms.js';
import { createViewer } from '../bpmn/viewer.js';
import { vocabulary } from '../vocabulary.js';
import { watch } from '../live.js';
import { timelineText } from '../timeline.js';

/** A moment of the run's clock to the second: in a story, what happened in one minute has an order. */
function toTheSecond(value) {
  const d = value ? new Date(value) : null;
  if (!d || Number.isNaN(d.getTime())) return value || '';
  return new Intl.DateTimeFormat(language(), { dateStyle: 'short', timeStyle: 'medium' }).format(d);
}

/** A value of a payload or a parameter in words: yes/no, numbers as they are, the rest as text. */
function sayValue(value) {
  if (value === true) return t('common:form.yes');
  if (value === false) return t('common:form.no');
  if (value === null || value === undefined || value === '') return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function sayPayload(payload) {
  const pairs = Object.entries(payload || {}).map(([k, v]) => `${k}: ${sayValue(v)}`);
  return pairs.length ? ` (${pairs.join(', ')})` : '';
}

/** One row of the run's log as a sentence in the reader's language, from its kind and parameters;
 * `names` turns process keys and pipeline codes into the names a person gave them. */
export function sayLogRow(row, { processName = (k) => k, pipelineName = (c) => c, stageName = (r) => r } = {}) {
  const d = row.detail || {};
  const outcome = t(`testbench:outcome.${row.kind}`, { defaultValue: row.kind });
  switch (row.source) {
    case 'bench':
      switch (row.kind) {
        case 'run_started': return d.run === 'robots' ? t('testbench:story.started_robots', { pipeline: pipelineName(d.pipeline) })
          : t('testbench:story.started', { deal: d.title || `#${d.copied_deal}` });
        case 'process_started': return t('testbench:story.started_process', { process: processName(d.process) });
        case 'event_sent': return t('testbench:story.event_sent', { event: d.event, payload: sayPayload(d.payload) });
        case 'clock_moved': return d.next_job ? t('testbench:story.clock_to_next_job', { by: d.by, to: toTheSecond(d.to) })
          : t('testbench:story.clock_moved', { by: d.by, to: toTheSecond(d.to) });
        case 'task_completed': return t('testbench:story.task_completed', { title: d.title });
        case 'task_moved': return t('testbench:story.task_moved', { title: d.title, column: d.column });
        case 'deal_moved': return t('testbench:story.deal_moved', { stage: stageName(d.stage) });
        default: return row.text;
      }
    case 'process':
      return d.element_type === 'Process' ? t('testbench:story.process_ended', { process: processName(d.process), outcome })
        : t('testbench:story.process_step', { step: d.element_name || d.element_id || row.text, outcome });
    case 'robot':
      return t('testbench:story.robot', { name: row.text, outcome });
    case 'trigger':
      return t('testbench:story.trigger', { name: row.text, outcome });
    case 'deal': // said as the deal's own feed says it: names, dates and amounts in the reader's way
      return timelineText({ kind: row.kind, text: row.text, params: row.params });
    default:
      return row.text;
  }
}

function placeholderFor(type) {
  return { number: 0, money: '0', bool: false, boolean: false }[type] ?? '';
}

export function testBenchView() {
  const kindSelect = h('select', { name: 'kind', 'aria-label': t('testbench:what_to_run') },
    h('option', { value: 'process' }, t('testbench:a_process')), h('option', { value: 'robots' }, t('testbench:a_pipelines_robots')));
  const processSelect = h('select', { name: 'process', 'aria-label': t('testbench:process') });
  const pipelineSelect = h('select', { name: 'pipeline', 'aria-label': t('testbench:pipeline') });
  const dealSelect = h('select', { name: 'deal', 'aria-label': t('testbench:deal') });
  const paramsBox = h('div', { class: 'df-list', id: 'run-params' });
  const sandboxTitle = h('input', { name: 'sandbox_title', placeholder: t('testbench:sandbox_title'), 'aria-label': t('testbench:sandbox_title') });
  const sandboxStage = h('select', { name: 'sandbox_stage', 'aria-label': t('testbench:stage') });
  const sandboxResponsible = h('select', { name: 'sandbox_responsible', 'aria-label': t('testbench:responsible') },
    h('option', { value: '' }, t('testbench:nobody')));
  const sandboxAmount = h('input', { name: 'sandbox_amount', type: 'number', step: '0.01', min: '0', inputmode: 'decimal',
    'aria-label': t('testbench:amount') });
  const productRows = h('div', { class: 'bench-products', id: 'sandbox-products' });
  const sandboxFields = h('div', { class: 'bench-fields', id: 'sandbox-fields' });
  const dealError = h('p', { class: 'field-error', id: 'sandbox-deal-error', role: 'alert' });
  const setup = h('form', { class: 'bench-setup', onsubmit: (e) => { e.preventDefault(); start(); } },
    h('h3', {}, t('testbench:run')),
    h('label', { class: 'df-field' }, t('testbench:run'), kindSelect),
    h('label', { class: 'df-field process-only' }, t('testbench:process'), processSelect),
    h('div', { class: 'process-only' }, paramsBox),
    h('label', { class: 'df-field' }, t('testbench:pipeline'), pipelineSelect),
    h('label', { class: 'df-field' }, t('testbench:deal_copied'), dealSelect),
    h('details', {}, h('summary', {}, t('testbench:or_sandbox')),
      h('label', { class: 'df-field' }, t('testbench:title'), sandboxTitle),
      h('label', { class: 'df-field' }, t('testbench:stage'), sandboxStage),
      h('label', { class: 'df-field' }, t('testbench:responsible'), sandboxResponsible),
      h('label', { class: 'df-field' }, t('testbench:amount'), sandboxAmount),
      h('div', { class: 'df-field' }, h('span', {}, t('testbench:products')), productRows,
        h('button', { type: 'button', class: 'small', 'data-action': 'add-product', onclick: () => addProduct() }, t('testbench:add_product'))),
      h('div', { class: 'df-field' }, h('span', {}, t('testbench:fields')), sandboxFields),
      dealError),
    h('button', { class: 'primary wide', type: 'submit', 'data-action': 'start-run' }, t('testbench:start')));

  const eventSelect = h('select', { 'aria-label': t('testbench:crm_event'), name: 'event' });
  const payloadInput = h('textarea', { rows: 4, name: 'payload', 'aria-label': t('testbench:payload'), spellcheck: 'false' });
  const advanceInput = h('input', { name: 'advance', value: '1d', size: 6, 'aria-label': t('testbench:advance_by') });
  const controls = h('div', { class: 'bench-controls', hidden: true },
    h('div', { class: 'control-group' }, h('strong', {}, t('testbench:send')), eventSelect,
      h('button', { 'data-action': 'send-event', onclick: () => sendEvent() }, t('testbench:send_event'))),
    payloadInput,
    h('div', { class: 'control-group' }, h('strong', {}, t('testbench:clock')), advanceInput,
      h('button', { 'data-action': 'advance', onclick: () => advance({ by: advanceInput.value }) }, t('testbench:advance')),
      h('button', { 'data-action': 'next-job', onclick: () => advance({ to: 'next_job' }) }, t('testbench:next_job')),
      h('button', { 'data-action': 'save-case', onclick: () => saveCase() }, t('testbench:save_case'))),
    h('button', { class: 'wide', 'data-action': 'new-run', onclick: () => { setup.hidden = false; controls.hidden = true; } }, t('testbench:new_run')));
  const summary = h('div', { class: 'bench-summary', id: 'run-summary' }, h('p', { class: 'muted' },
    t('testbench:intro')));
  const diagram = h('div', { class: 'viewer bench-viewer', id: 'run-diagram' });
  const logBox = h('div', { class: 'list-panel bench-log', id: 'run-log' });
  const runView = h('div', { hidden: true }, diagram, h('h3', {}, t('testbench:log')), logBox);
  const el = h('div', { class: 'bench-layout' },
    h('aside', { class: 'sidebar' }, setup, controls),
    h('section', { class: 'bench-main' }, summary, runView));

  let run = null;
  let viewer;
  let unwatch = () => {};
  let vocab = { events: {} };
  let pipelines = [];
  let processes = [];
  let dealForm = fieldForm([]);
  let dealFormPipeline = null;
  let paramErrors = {};

  function addProduct() {
    const row = h('div', { class: 'bench-product' },
      h('input', { name: 'product_name', placeholder: t('testbench:product_name'), 'aria-label': t('testbench:product_name') }),
      h('input', { name: 'product_price', type: 'number', step: '0.01', min: '0', placeholder: t('testbench:product_price'), 'aria-label': t('testbench:product_price') }),
      h('input', { name: 'product_qty', type: 'number', step: '1', min: '1', value: '1', size: 3, 'aria-label': t('testbench:product_qty') }),
      h('button', { type: 'button', class: 'small', 'aria-label': t('testbench:remove_product'), onclick: () => row.remove() }, '×'));
    productRows.append(row);
  }

  function products() {
    return [...productRows.querySelectorAll('.bench-product')].map((row) => ({
      name: row.querySelector('[name="product_name"]').value.trim(),
      price: row.querySelector('[name="product_price"]').value || '0',
      qty: Number(row.querySelector('[name="product_qty"]').value || 1),
    })).filter((p) => p.name);
  }

  /** The stage's pipeline's typed fields, as the deal card has them; redrawn only when the pipeline changes. */
  async function drawDealFields() {
    const code = (sandboxStage.value || '').split('.')[0];
    if (!code || code === dealFormPipeline) return;
    dealFormPipeline = code;
    try {
      const fields = await api.get(`/test-runs/deal-fields?pipeline=${encodeURIComponent(code)}`);
      dealForm = fieldForm(fields.map((f) => ({ ...f, required: false })), { idPrefix: 'sandbox' });
      clear(sandboxFields, dealForm.el);
    } catch (err) {
      toast(sayError(err), 'error');
    }
  }

  /** A refusal in words: the process's missing fields and parameters by their labels, marked on the form. */
  function sayError(err) {
    const body = (err && err.body) || {};
    const details = body.details && typeof body.details === 'object' && !Array.isArray(body.details) ? body.details : {};
    if (body.code === 'start_refused') {
      const process = processes.find((p) => p.key === processSelect.value) || {};
      const labelOf = (name) => {
        const known = [...(process.parameters || []), ...(process.required_fields || [])].find((p) => p.name === name);
        return (known && (known.label || known.name)) || name;
      };
      const reason = (text) => (text === 'required' ? t('testbench:required') : text);
      const needs = [
        ...Object.entries(details.invalid_parameters || {}).map(([name, why]) => `${labelOf(name)} (${reason(why)})`),
        ...(details.missing_fields || []).map((name) => `${labelOf(name)} (${t('testbench:missing_field')})`),
      ];
      if (needs.length) return t('testbench:needs', { process: process.name || process.key || '', what: needs.join(', ') });
    }
    return body.message || (err && err.message) || String(err);
  }

  /** The server's messages on the fields they name: the process's parameters and the sandbox deal's form. */
  function markErrors(err) {
    const body = (err && err.body) || {};
    const details = body.details && typeof body.details === 'object' && !Array.isArray(body.details) ? body.details : {};
    const reason = (text) => (text === 'required' ? t('common:form.required') : text);
    paramErrors = Object.fromEntries(Object.entries(details.invalid_parameters || {}).map(([k, v]) => [k, reason(v)]));
    for (const row of paramsBox.querySelectorAll('[data-param-row]')) {
      const message = paramErrors[row.dataset.paramRow] || '';
      row.querySelector('.field-error').textContent = message;
      row.classList.toggle('invalid', !!message);
      const input = row.querySelector('input');
      if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    }
    const missing = Object.fromEntries((details.missing_fields || []).map((name) => [name, t('common:form.required')]));
    dealForm.showErrors({ ...missing, ...(details.fields || {}) });
    dealError.textContent = typeof details.deal === 'string' ? body.message : '';
    // The first marked field in view: a long sandbox form would otherwise hide the parameter at its top.
    const first = setup.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  const names = {
    processName: (key) => (processes.find((p) => p.key === key) || {}).name || key,
    pipelineName: (code) => (pipelines.find((p) => p.code === code) || {}).name || code || '',
    stageName: (ref) => stageLabel(ref) || ref || '',
  };

  /** "Credit · New" for `credit.new`: the pipeline's and the stage's names as the person knows them. */
  function stageLabel(ref) {
    const [code, stageCode] = String(ref || '').split('.');
    const pipeline = pipelines.find((p) => p.code === code);
    const stage = pipeline && pipeline.stages.find((s) => s.code === stageCode);
    return stage ? `${pipeline.name} · ${stage.name}` : null;
  }

  /** Why a row happened, when the server knows more than the row's own words: a step's label or
   * message, a robot's or a deal change's reason; the element's type is not a reason. */
  function reasonOf(row) {
    if (row.source === 'bench') return '';
    if (row.source === 'process') {
      const d = row.detail || {};
      return d.label || d.reason || d.message || '';
    }
    return row.reason ? names.processName(row.reason) : ''; // a process that changed the deal, by its name
  }

  function syncKind() {
    el.querySelectorAll('.process-only').forEach((node) => { node.hidden = kindSelect.value !== 'process'; });
  }

  async function loadDeals() {
    try {
      const deals = await api.get(`/deals?pipeline=${encodeURIComponent(pipelineSelect.value)}&limit=100`);
      clear(dealSelect, h('option', { value: '' }, t('testbench:pick_deal')), deals.map((d) => h('option', { value: d.id }, `#${d.id} ${d.title} (${d.stage})`)));
    } catch (err) {
      toast(sayError(err), 'error');
    }
  }

  // Drawn from the list loaded once at mount, synchronously: a second fetch resolving after the
  // person has typed would redraw the form and wipe what they entered.
  function drawParams() {
    const typed = Object.fromEntries([...paramsBox.querySelectorAll('input')].map((i) => [i.dataset.param, i.value]));
    const process = processes.find((p) => p.key === processSelect.value);
    clear(paramsBox, (process ? process.parameters : []).map((p) => h('div', { class: 'df-field', dataset: { paramRow: p.name } },
      h('label', {}, `${p.label || p.name} (${p.type})`, h('input', {
        name: `param:${p.name}`, dataset: { param: p.name }, value: typed[p.name] || '',
        placeholder: p.type === 'datetime' ? '2026-12-01T10:00:00+00:00' : '',
      })), h('span', { class: 'field-error', role: 'alert' }, paramErrors[p.name] || ''))));
  }

  function payloadTemplate() {
    const fields = vocab.events[eventSelect.value] || {};
    const body = {};
    for (const [name, type] of Object.entries(fields)) if (name !== 'deal_id') body[name] = placeholderFor(type);
    payloadInput.value = JSON.stringify(body, null, 2);
  }

  async function start() {
    const body = { kind: kindSelect.value };
    if (body.kind === 'robots') body.pipeline = pipelineSelect.value;
    if (body.kind === 'process') {
      body.process = processSelect.value;
      body.params = Object.fromEntries([...paramsBox.querySelectorAll('input')].filter((i) => i.value).map((i) => [i.dataset.param, i.value]));
    }
    if (dealSelect.value) body.deal_id = Number(dealSelect.value);
    else {
      const errors = dealForm.validate();
      if (Object.keys(errors).length) { dealForm.focusFirstError(); return; }
      const fields = Object.fromEntries(Object.entries(dealForm.values()).filter(([, v]) => v !== null && v !== ''));
      body.deal = { title: sandboxTitle.value || t('testbench:sandbox_deal'), stage: sandboxStage.value, fields };
      const items = products();
      if (items.length) body.deal.products = items;
      if (sandboxAmount.value !== '') body.deal.amount = sandboxAmount.value;
      else if (items.length) body.deal.amount = items.reduce((sum, p) => sum + Number(p.price) * p.qty, 0).toFixed(2);
      if (sandboxResponsible.value) body.deal.responsible = sandboxResponsible.value;
    }
    markErrors(null);
    try {
      show(await api.post('/test-runs', body));
      setup.hidden = true; // the run's controls take the sidebar; "New run…" brings the form back
      controls.hidden = false;
      subscribe();
    } catch (err) {
      markErrors(err);
      toast(err.status === 404 || err.status === 405 ? t('testbench:no_api') : t('testbench:not_started', { reason: sayError(err) }), 'error');
    }
  }

  async function sendEvent() {
    let payload;
    try { payload = JSON.parse(payloadInput.value || '{}'); } catch {
      toast(t('testbench:payload_not_json'), 'error');
      return;
    }
    try {
      const result = await api.post(`/test-runs/${run.id}/events`, { type: eventSelect.value, payload });
      show(result.state || result);
    } catch (err) {
      toast(sayError(err), 'error');
    }
  }

  /** The deal's pipeline as a strip of stages, the current one lit: the board, in one line. */
  function stageStrip(deal) {
    const pipeline = pipelines.find((p) => p.code === deal.pipeline);
    if (!pipeline) return null;
    return h('div', { class: 'stage-strip', id: 'run-board' }, h('strong', {}, `${pipeline.name}: `),
      pipeline.stages.map((stage) => h('span', { class: stage.code === deal.stage ? 'stage current' : 'stage', dataset: { stage: stage.code } }, stage.name)));
  }

  async function completeTask(taskId) {
    try {
      show(await api.post(`/test-runs/${run.id}/tasks/${taskId}/complete`, { result: {} }));
    } catch (err) {
      toast(sayError(err), 'error');
    }
  }

  async function advance(body) {
    try {
      show(await api.post(`/test-runs/${run.id}/advance`, body));
    } catch (err) {
      toast(sayError(err), 'error');
    }
  }

  /** The run as a case file for `dealflow test-processes`, and the BPMN it needs beside it. */
  async function saveCase() {
    try {
      const c = await api.get(`/test-runs/${run.id}/case`);
      download(c.file_name || 'run.cases.yaml', c.yaml, 'text/yaml');
      if (c.bpmn) download(c.bpmn_file_name || `${c.process}.bpmn`, c.bpmn, 'application/xml');
    } catch (err) {
      toast(sayError(err), 'error');
    }
  }

  async function show(state) {
    run = state;
    runView.hidden = false; // before drawing: a hidden container has no size to fit the diagram into
    const deal = state.deal || {};
    clear(summary,
      h('div', { class: 'bench-facts' },
        h('span', {}, h('strong', {}, `${t('testbench:clock')} `), h('span', { id: 'run-clock' }, toTheSecond(state.now))),
        h('span', {}, h('strong', {}, `${t('testbench:deal')} `), `${deal.title || ''} `, h('span', { class: 'status', id: 'run-stage', title: deal.stage_ref || '', dataset: { ref: deal.stage_ref || '' } },
          stageLabel(deal.stage_ref) || deal.stage_name || deal.stage_ref || '')),
        state.instance ? h('span', {}, h('strong', {}, `${t('testbench:instance')} `), h('span', { class: `status status-${state.instance.status}`, id: 'run-instance-status' }, state.instance.status)) : null,
        state.instance && state.instance.waiting_for && state.instance.waiting_for.length ? h('span', {}, t('testbench:waits_for', { what: state.instance.waiting_for.join(', ') })) : null),
      state.jobs && state.jobs.length ? h('p', { class: 'small muted' }, t('testbench:next_due', { jobs: state.jobs.slice(0, 3).map((j) => t('testbench:job_at', { job: j.robot || j.element_id || j.kind, when: formatDateTime(j.due_at) })).join('; ') })) : null,
      stageStrip(deal),
      state.tasks && state.tasks.length ? h('div', { class: 'bench-tasks', id: 'run-tasks' }, state.tasks.map((task) => h('div', { class: 'bench-task' },
        h('span', {}, `${task.title} → ${task.assignee || task.group || '—'} `, h('span', { class: 'status' }, task.status)),
        task.status === 'open' ? h('button', { class: 'small', 'data-action': 'complete-task', onclick: () => completeTask(task.id) }, t('testbench:complete')) : null))) : null);
    if (state.instance && state.process) {
      try {
        const xml = await api.get(`/processes/${encodeURIComponent(state.process)}/xml?version=${state.process_version}`, { text: true });
        await viewer.show(xml, { active: state.instance.active_elements, completed: state.instance.completed_elements,
          incidents: (state.instance.incidents || []).map((i) => i.element_id).filter(Boolean) });
      } catch (err) {
        toast(sayError(err), 'error');
      }
    }
    try {
      const entries = await api.get(`/test-runs/${state.id}/log`);
      clear(logBox, table([
        { title: t('testbench:col.when'), render: (r) => toTheSecond(r.at) },
        { title: t('testbench:col.source'), render: (r) => t(`testbench:source.${r.source}`, { defaultValue: r.source }) },
        { title: t('testbench:col.what'), render: (r) => sayLogRow(r, names) },
        { title: t('testbench:col.reason'), render: (r) => reasonOf(r) },
      ], entries, { empty: t('testbench:nothing_yet') }));
    } catch (err) {
      toast(sayError(err), 'error');
    }
  }

  function subscribe() {
    unwatch();
    const runId = run.id;
    unwatch = watch(`test-run:${runId}`, debounce(async (event) => {
      if (run && run.id === runId && event.startsWith('test-run')) show(await api.get(`/test-runs/${runId}`));
    }, 200));
  }

  kindSelect.addEventListener('change', syncKind);
  pipelineSelect.addEventListener('change', loadDeals);
  processSelect.addEventListener('change', drawParams);
  eventSelect.addEventListener('change', payloadTemplate);
  sandboxStage.addEventListener('change', drawDealFields);

  return {
    el,
    async mounted() {
      viewer = createViewer(diagram);
      syncKind();
      try {
        let words;
        let users;
        [processes, pipelines, words, users] = await Promise.all([api.get('/processes'), api.get('/pipelines'), vocabulary(),
          api.get('/users?per_page=100'), once('/actions')]);
        vocab = words;
        sandboxStage.append(...pipelines.map((p) => h('optgroup', { label: p.name },
          p.stages.map((s) => h('option', { value: s.ref, selected: s.ref === 'main.new' }, `${p.name} · ${s.name}`)))));
        sandboxResponsible.append(...users.map((u) => h('option', { value: u.login, selected: u.login === 'manager.north1' }, u.name || u.login)));
        drawDealFields();
        processSelect.append(...processes.map((p) => h('option', { value: p.key }, `${p.name || p.key} v${p.version}`)));
        pipelineSelect.append(...pipelines.map((p) => h('option', { value: p.code }, p.name)));
        eventSelect.append(...Object.keys(vocab.events || {}).sort().map((e) => h('option', { value: e }, e)));
        payloadTemplate();
        drawParams();
        await loadDeals();
      } catch (err) {
        toast(sayError(err), 'error');
      }
    },
    destroy() {
      if (viewer) viewer.destroy();
      unwatch();
    },
  };
}
