/**
 * Running instances and incidents with filters; an instance on its diagram with its active
 * and completed elements marked, its history, its variables and incidents, which can be retried.
 */
import { api } from '../api.js';
import { h, clear, toast, errorText, table, debounce } from '../ui.js';
import { t, formatDateTime } from '../i18n.js';
import { createViewer } from '../bpmn/viewer.js';
import { watch } from '../live.js';

const STATUSES = ['running', 'retrying', 'incident', 'completed', 'cancelled'];
/** An instance's status in plain words of the person's language. */
const status = (s) => t(`monitoring:status.${s}`, { defaultValue: s });

/** "retrying: <error>, attempt n of m, next at <time>" for a step that is failing, else the status. */
function stateText(r) {
  if (r.state === 'retrying' && r.retry) {
    return t('monitoring:retrying_text', {
      error: r.retry.error || '', attempt: r.retry.attempt, of: r.retry.of, next: formatDateTime(r.retry.next_at),
    });
  }
  return status(r.state || r.status);
}

const stateBadge = (r, attrs = {}) => h('span', { class: `status status-${r.state || r.status}`, ...attrs }, stateText(r));

/** A name first, its id as secondary text. */
const named = (name, id) => (name && name !== id
  ? h('span', {}, name, ' ', h('small', { class: 'muted' }, id || ''))
  : h('span', {}, id || name || ''));

/** The values an expression saw, in words ("deal.down_payment is empty"). */
function seenText(details) {
  if (!details || !details.expression) return null;
  return h('div', { class: 'incident-details' },
    t('monitoring:expression_saw', { expression: details.expression, seen: details.seen_text || '' }));
}

export function monitoringView(params, { user } = {}) {
  if (params[0] === 'instance' && params[1]) return instanceView(Number(params[1]));
  const keySelect = h('select', { 'aria-label': t('monitoring:process'), name: 'key' }, h('option', { value: '' }, t('monitoring:all_processes')));
  const statusSelect = h('select', { 'aria-label': t('monitoring:status_label'), name: 'status' }, h('option', { value: '' }, t('monitoring:any_status')),
    STATUSES.map((s) => h('option', { value: s, selected: params[0] === 'incidents' && s === 'incident' }, status(s))));
  const dealInput = h('input', { type: 'number', min: 1, placeholder: t('monitoring:deal_id'), 'aria-label': t('monitoring:deal_id'), name: 'deal_id' });
  const versionInput = h('input', { type: 'number', min: 1, placeholder: t('monitoring:version'), 'aria-label': t('monitoring:version'), name: 'version', class: 'narrow' });
  const elementInput = h('input', { type: 'text', placeholder: t('monitoring:element'), 'aria-label': t('monitoring:element'), name: 'element' });
  const fromInput = h('input', { type: 'date', 'aria-label': t('monitoring:started_from'), title: t('monitoring:started_from'), name: 'started_from' });
  const toInput = h('input', { type: 'date', 'aria-label': t('monitoring:started_to'), title: t('monitoring:started_to'), name: 'started_to' });
  const incidentInput = h('input', { type: 'search', placeholder: t('monitoring:incident_text'), 'aria-label': t('monitoring:incident_text'), name: 'incident' });
  const reasonInput = h('input', { type: 'text', placeholder: t('monitoring:reason'), 'aria-label': t('monitoring:reason'), name: 'bulk_reason' });
  const selected = new Set();
  let stopBulk = () => {}; // stops listening to the running bulk operation's progress
  const bulkResults = h('div', { class: 'bulk-results', id: 'bulk-results', 'aria-live': 'polite' });
  const list = h('div', { class: 'list-panel', id: 'instances' });
  const incidents = h('div', { class: 'list-panel', id: 'incidents' });
  const el = h('div', { class: 'page' },
    h('div', { class: 'toolbar' }, h('h2', {}, t('monitoring:instances')), keySelect, statusSelect, dealInput,
      h('button', { onclick: () => refresh() }, t('monitoring:refresh'))),
    h('div', { class: 'toolbar filters' }, versionInput, elementInput, fromInput, toInput, incidentInput),
    h('div', { class: 'toolbar bulk' },
      h('button', { 'data-action': 'bulk-retry', onclick: () => bulk('retry') }, t('monitoring:retry_selected')),
      reasonInput,
      h('button', { 'data-action': 'bulk-cancel', onclick: () => bulk('cancel') }, t('monitoring:cancel_selected')),
      h('span', { class: 'muted' }, t('monitoring:bulk_hint'))),
    bulkResults,
    h('div', { class: 'two-columns' },
      h('section', {}, list),
      h('section', {}, h('h3', {}, t('monitoring:open_incidents')), incidents)));

  /** The list's filters as the API's query parameters (dates as the start of the day, local time). */
  function filter() {
    const f = {};
    if (keySelect.value) f.key = keySelect.value;
    if (statusSelect.value) f.status = statusSelect.value;
    if (dealInput.value) f.deal_id = Number(dealInput.value);
    if (versionInput.value) f.version = Number(versionInput.value);
    if (elementInput.value.trim()) f.element = elementInput.value.trim();
    if (fromInput.value) f.started_from = new Date(`${fromInput.value}T00:00`).toISOString();
    if (toInput.value) f.started_to = new Date(new Date(`${toInput.value}T00:00`).getTime() + 86400000).toISOString();
    if (incidentInput.value.trim()) f.incident = incidentInput.value.trim();
    return f;
  }

  /** Retry or cancel the ticked instances (or, with none ticked, every one the filter matches);
   * each is done on its own and gets its own line in the result. While the server works, its
   * progress events (in the person's own feed room, tagged with this run's name) move the bar
   * and fill in each instance's line as it is done; the answer at the end settles every line. */
  async function bulk(action) {
    const operation = `bulk-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    const body = { action, operation };
    if (selected.size) body.ids = [...selected];
    else body.filter = filter();
    if (action === 'cancel' && reasonInput.value.trim()) body.reason = reasonInput.value.trim();
    const bar = h('progress', { id: 'bulk-progress', max: 1, value: 0, 'aria-label': t('monitoring:bulk_progress_label') });
    const count = h('p', { id: 'bulk-count' }, t('monitoring:bulk_working'));
    const lines = h('ul', { id: 'bulk-lines' });
    const shown = new Map();
    const put = (r) => {
      const line = h('li', { class: r.ok ? 'ok' : 'bad', dataset: { id: r.id } }, `#${r.id}: `, r.ok ? outcomeText(r) : r.error);
      if (shown.has(r.id)) shown.get(r.id).replaceWith(line);
      else lines.append(line);
      shown.set(r.id, line);
    };
    const step = (done, total) => {
      bar.max = Math.max(total, 1);
      bar.value = done;
    };
    clear(bulkResults, h('div', { class: 'bulk-progress' }, bar, count), lines);
    stopBulk();
    stopBulk = user ? watch(`feed:${user.id}`, (event, payload) => {
      if ((event !== 'bulk.started' && event !== 'bulk.progress') || !payload || payload.operation !== operation) return;
      step(payload.done, payload.total);
      count.textContent = t('monitoring:bulk_progress', { done: payload.done, total: payload.total });
      if (payload.result) put(payload.result);
    }) : () => {};
    try {
      const results = await api.post('/instances/bulk', body);
      stopBulk();
      const ok = results.filter((r) => r.ok).length;
      for (const r of results) put(r);
      step(results.length, results.length);
      count.textContent = t('monitoring:bulk_done', { ok, failed: results.length - ok });
      selected.clear();
    } catch (err) {
      stopBulk();
      clear(bulkResults);
      toast(errorText(err), 'error');
    }
    refresh();
  }

  async function refresh() {
    const query = new URLSearchParams({ per_page: '100' });
    for (const [name, value] of Object.entries(filter())) query.set(name, String(value));
    try {
      const rows = await api.get(`/instances?${query}`);
      clear(list, table([
        { title: '', render: (r) => h('input', {
          type: 'checkbox', 'aria-label': t('monitoring:select', { id: r.id }), checked: selected.has(r.id),
          onclick: (e) => e.stopPropagation(),
          onchange: (e) => { if (e.target.checked) selected.add(r.id); else selected.delete(r.id); },
        }) },
        { title: '#', key: 'id' },
        { title: t('monitoring:col.process'), render: (r) => named(r.process_name && `${r.process_name} v${r.version}`, r.key) },
        { title: t('monitoring:col.deal'), render: (r) => (r.deal_id ? h('a', { href: `#/deals/${r.deal_id}`, onclick: (e) => e.stopPropagation() }, r.deal_title || `#${r.deal_id}`) : '') },
        { title: t('monitoring:col.stage'), render: (r) => r.stage_name || '' },
        { title: t('monitoring:col.status'), render: (r) => stateBadge(r) },
        { title: t('monitoring:col.started_by'), render: (r) => r.started_by_name || '' },
        { title: t('monitoring:col.started'), render: (r) => formatDateTime(r.started_at) },
        { title: t('monitoring:col.updated'), render: (r) => formatDateTime(r.updated_at) },
      ], rows, { onRowClick: (r) => { location.hash = `#/monitoring/instance/${r.id}`; }, empty: t('monitoring:no_instances') }));
      const broken = await api.get('/instances?status=incident&limit=50');
      const open = (await Promise.all(broken.map((i) => api.get(`/instances/${i.id}/incidents`))))
        .flat().filter((i) => i.status === 'open');
      clear(incidents, incidentTable(open, refresh));
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  for (const input of [keySelect, statusSelect, dealInput, versionInput, elementInput, fromInput, toInput, incidentInput]) {
    input.addEventListener('change', refresh);
  }

  return {
    el,
    async mounted() {
      try {
        const processes = await api.get('/processes');
        keySelect.append(...processes.map((p) => h('option', { value: p.key }, p.name || p.key)));
      } catch { /* the list still works without the names */ }
      refresh();
    },
    destroy() {
      stopBulk();
    },
  };
}

/** What a retry came to, in words: resolved, failing again and retrying, or a new incident. */
function outcomeText(r) {
  if (r.outcome === 'failed_again') return t('monitoring:failed_again', { id: r.id, error: r.error || '' });
  if (r.outcome === 'retrying') return r.error ? t('monitoring:retry_failing', { id: r.id, error: r.error }) : t('monitoring:retry_scheduled', { id: r.id });
  if (r.outcome === 'resolved') return t('monitoring:retried', { id: r.id, status: status(r.state || r.status) });
  return t('monitoring:instance_cancelled', { id: r.id });
}

function incidentTable(rows, after) {
  return table([
    { title: t('monitoring:col.instance'), render: (r) => h('a', { href: `#/monitoring/instance/${r.instance_id}` }, `#${r.instance_id}`) },
    { title: t('monitoring:col.element'), render: (r) => named(r.element_name, r.element_id) },
    { title: t('monitoring:col.problem'), render: (r) => h('div', {}, seenText(r.details), h('span', { class: 'incident-message' }, r.message)) },
    { title: t('monitoring:col.tries'), key: 'attempts' },
    { title: '', render: (r) => (r.status === 'open' ? h('button', {
      class: 'small', 'data-action': 'retry', 'data-incident': r.id,
      onclick: async (e) => {
        e.stopPropagation();
        try {
          const result = await api.post(`/incidents/${r.id}/retry`, {});
          toast(outcomeText(result), result.outcome === 'resolved' ? 'info' : 'error');
        } catch (err) {
          toast(errorText(err), 'error');
        }
        after();
      },
    }, t('monitoring:retry')) : status(r.status)) },
  ], rows, { empty: t('monitoring:no_incidents') });
}

/** What a history row adds in words: who cancelled and why, which variables changed how, the error. */
function detailText(r) {
  const d = r.detail || {};
  if (r.outcome === 'cancelled') {
    return h('small', { class: 'muted history-detail' }, ' ', t('monitoring:cancel_author', { who: d.label || '' }),
      d.reason ? ` ${t('monitoring:because', { reason: d.reason })}` : '');
  }
  if (r.outcome === 'variables changed') {
    const changes = Object.keys(d.new || {}).map((k) => `${k}: ${JSON.stringify((d.old || {})[k] ?? null)} → ${JSON.stringify(d.new[k])}`);
    return h('small', { class: 'muted history-detail' }, ' ', t('monitoring:change_author', { who: d.label || '', changes: changes.join(', ') }));
  }
  if (d.message) return h('small', { class: 'muted history-detail' }, ' ', d.message);
  return null;
}

function instanceView(id) {
  const diagram = h('div', { class: 'viewer', id: 'instance-diagram' });
  const header = h('div', { class: 'toolbar' }, h('a', { href: '#/monitoring' }, `← ${t('monitoring:instances')}`));
  const history = h('div', { class: 'list-panel', id: 'history' });
  const incidents = h('div', { class: 'list-panel', id: 'instance-incidents' });
  const variables = h('div', { class: 'list-panel', id: 'instance-variables' });
  const el = h('div', { class: 'page instance-page' }, header, diagram,
    h('div', { class: 'two-columns' },
      h('section', {}, h('h3', {}, t('monitoring:history')), history),
      h('section', {}, h('h3', {}, t('monitoring:incidents')), incidents, h('h3', {}, t('monitoring:variables')), variables)));
  let viewer;
  const cancelReason = h('input', { type: 'text', name: 'reason', placeholder: t('monitoring:reason'), 'aria-label': t('monitoring:reason') });

  const varName = h('input', { type: 'text', name: 'variable_name', placeholder: t('monitoring:col.name'), 'aria-label': t('monitoring:col.name') });
  const varValue = h('input', { type: 'text', name: 'variable_value', placeholder: t('monitoring:value_json'), 'aria-label': t('monitoring:value_json') });

  /** Set one variable (its value typed as JSON: "text", 12, true, null, [..]); the history keeps who and what. */
  async function saveVariable(e) {
    e.preventDefault();
    let value;
    try {
      value = JSON.parse(varValue.value);
    } catch {
      toast(t('monitoring:not_json'), 'error');
      return;
    }
    try {
      await api.patch(`/instances/${id}/variables`, { variables: { [varName.value.trim()]: value } });
      toast(t('monitoring:variable_set', { name: varName.value.trim() }));
      varName.value = ''; varValue.value = '';
    } catch (err) {
      toast(errorText(err), 'error');
    }
    refresh();
  }

  async function retryNow() {
    try {
      await api.post(`/instances/${id}/retry-now`, {});
      toast(t('monitoring:retry_scheduled', { id }));
    } catch (err) {
      toast(errorText(err), 'error');
    }
    setTimeout(refresh, 1000);
  }

  async function cancel() {
    try {
      const reason = cancelReason.value.trim();
      await api.post(`/instances/${id}/cancel`, reason ? { reason } : {});
      toast(t('monitoring:instance_cancelled', { id }));
      cancelReason.value = '';
    } catch (err) {
      toast(errorText(err), 'error');
    }
    refresh();
  }

  async function refresh() {
    try {
      const instance = await api.get(`/instances/${id}`);
      clear(header, h('a', { href: '#/monitoring' }, `← ${t('monitoring:instances')}`),
        h('h2', {}, t('monitoring:instance_title', { key: instance.process_name || instance.key, version: instance.version, id: instance.id })),
        stateBadge(instance, { id: 'instance-status' }),
        instance.deal_id ? h('a', { href: `#/deals/${instance.deal_id}` }, instance.deal_title || t('monitoring:deal_link', { id: instance.deal_id })) : null,
        instance.stage_name ? h('span', { class: 'muted' }, instance.stage_name) : null,
        instance.state === 'retrying' ? h('button', { 'data-action': 'retry-now', onclick: retryNow }, t('monitoring:retry_now')) : null,
        ['completed', 'cancelled'].includes(instance.status) ? null : h('span', { class: 'cancel-box' },
          cancelReason, h('button', { 'data-action': 'cancel', onclick: cancel }, t('monitoring:cancel'))),
        h('span', { class: 'spacer' }),
        h('span', { class: 'legend' }, h('i', { class: 'dot dot-active' }), `${t('monitoring:legend_active')} `, h('i', { class: 'dot dot-completed' }), t('monitoring:legend_completed')),
        h('button', { onclick: refresh }, t('monitoring:refresh')));
      const [xml, steps, problems] = await Promise.all([
        api.get(`/processes/${encodeURIComponent(instance.key)}/xml?version=${instance.version}`, { text: true }),
        api.get(`/instances/${id}/history?limit=200`),
        api.get(`/instances/${id}/incidents`),
      ]);
      await viewer.show(xml, {
        // a retrying step is where the instance stands, though Spiff holds it in error, not waiting
        active: [...instance.active_elements, ...(instance.retry && instance.retry.element_id ? [instance.retry.element_id] : [])],
        completed: instance.completed_elements,
        incidents: problems.filter((p) => p.status === 'open').map((p) => p.element_id).filter(Boolean),
      });
      clear(history, table([
        { title: t('monitoring:col.when'), render: (r) => formatDateTime(r.at) },
        { title: t('monitoring:col.element'), render: (r) => named(r.name || (instance.element_names || {})[r.element_id], r.element_id) },
        { title: t('monitoring:col.type'), key: 'type' },
        { title: t('monitoring:col.outcome'), render: (r) => h('span', {}, t(`monitoring:outcome.${r.outcome}`, { defaultValue: r.outcome }), detailText(r)) },
      ], steps, { empty: t('monitoring:no_steps') }));
      clear(incidents, incidentTable(problems, refresh));
      const open = !['completed', 'cancelled'].includes(instance.status);
      clear(variables, table([
        { title: t('monitoring:col.name'), key: 'name' },
        { title: t('monitoring:col.value'), render: (r) => h('code', {}, JSON.stringify(r.value)) },
        ...(open ? [{ title: '', render: (r) => h('button', { class: 'small', 'data-action': 'edit-variable', onclick: () => {
          varName.value = r.name; varValue.value = JSON.stringify(r.value); varValue.focus();
        } }, t('monitoring:edit')) }] : []),
      ], Object.entries(instance.variables || {}).sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => ({ name, value })), { empty: t('monitoring:no_variables') }),
      open ? h('form', { class: 'variable-form', onsubmit: saveVariable }, varName, varValue,
        h('button', { type: 'submit' }, t('monitoring:set_variable'))) : null);
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  let unwatch = () => {};
  const onLive = debounce((event, payload) => {
    if (payload && payload.instance_id === id) refresh();
  }, 300);
  return {
    el,
    mounted() {
      viewer = createViewer(diagram);
      unwatch = watch(`instance:${id}`, onLive); // steps and incidents show as they happen
      refresh();
    },
    destroy() {
      unwatch();
      if (viewer) viewer.destroy();
    },
  };
}
