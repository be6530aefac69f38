/**
 * Running instances and incidents with filters; an instance on its diagram with its active
 * and completed elements marked, its history, its variables and incidents, which can be retried.
 */
import { api } from '../api.js';
import { h, clear, toast, errorText, table, debounce } from '../ui.js';
import { t, formatDateTime } from '../i18n.js';
import { createViewer } from '../bpmn/viewer.js';
import { watch } from '../live.js';

const STATUSES = ['running', 'incident', 'completed', 'cancelled'];
/** An instance's status in plain words of the person's language. */
const status = (s) => t(`monitoring:status.${s}`, { defaultValue: s });

export function monitoringView(params) {
  if (params[0] === 'instance' && params[1]) return instanceView(Number(params[1]));
  const keySelect = h('select', { 'aria-label': t('monitoring:process'), name: 'key' }, h('option', { value: '' }, t('monitoring:all_processes')));
  const statusSelect = h('select', { 'aria-label': t('monitoring:status_label'), name: 'status' }, h('option', { value: '' }, t('monitoring:any_status')),
    STATUSES.map((s) => h('option', { value: s, selected: params[0] === 'incidents' && s === 'incident' }, status(s))));
  const dealInput = h('input', { type: 'number', min: 1, placeholder: t('monitoring:deal_id'), 'aria-label': t('monitoring:deal_id'), name: 'deal_id' });
  const list = h('div', { class: 'list-panel', id: 'instances' });
  const incidents = h('div', { class: 'list-panel', id: 'incidents' });
  const el = h('div', { class: 'page' },
    h('div', { class: 'toolbar' }, h('h2', {}, t('monitoring:instances')), keySelect, statusSelect, dealInput,
      h('button', { onclick: () => refresh() }, t('monitoring:refresh'))),
    h('div', { class: 'two-columns' },
      h('section', {}, list),
      h('section', {}, h('h3', {}, t('monitoring:open_incidents')), incidents)));

  async function refresh() {
    const query = new URLSearchParams({ limit: '100' });
    if (keySelect.value) query.set('key', keySelect.value);
    if (statusSelect.value) query.set('status', statusSelect.value);
    if (dealInput.value) query.set('deal_id', dealInput.value);
    try {
      const rows = await api.get(`/instances?${query}`);
      clear(list, table([
        { title: '#', key: 'id' },
        { title: t('monitoring:col.process'), key: 'key' },
        { title: t('monitoring:col.deal'), render: (r) => (r.deal_id ? h('a', { href: `#/deals/${r.deal_id}`, onclick: (e) => e.stopPropagation() }, `#${r.deal_id}`) : '') },
        { title: t('monitoring:col.status'), render: (r) => h('span', { class: `status status-${r.status}` }, status(r.status)) },
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

  for (const input of [keySelect, statusSelect, dealInput]) input.addEventListener('change', refresh);

  return {
    el,
    async mounted() {
      try {
        const processes = await api.get('/processes');
        keySelect.append(...processes.map((p) => h('option', { value: p.key }, p.name || p.key)));
      } catch { /* the list still works without the names */ }
      refresh();
    },
  };
}

function incidentTable(rows, after) {
  return table([
    { title: t('monitoring:col.instance'), render: (r) => h('a', { href: `#/monitoring/instance/${r.instance_id}` }, `#${r.instance_id}`) },
    { title: t('monitoring:col.element'), key: 'element_id' },
    { title: t('monitoring:col.problem'), render: (r) => h('span', { class: 'incident-message' }, r.message) },
    { title: t('monitoring:col.tries'), key: 'attempts' },
    { title: '', render: (r) => (r.status === 'open' ? h('button', {
      class: 'small', 'data-action': 'retry', 'data-incident': r.id,
      onclick: async (e) => {
        e.stopPropagation();
        try {
          const instance = await api.post(`/incidents/${r.id}/retry`, {});
          toast(t('monitoring:retried', { id: instance.id, status: status(instance.status) }));
        } catch (err) {
          toast(errorText(err), 'error');
        }
        after();
      },
    }, t('monitoring:retry')) : status(r.status)) },
  ], rows, { empty: t('monitoring:no_incidents') });
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

  async function refresh() {
    try {
      const instance = await api.get(`/instances/${id}`);
      clear(header, h('a', { href: '#/monitoring' }, `← ${t('monitoring:instances')}`),
        h('h2', {}, t('monitoring:instance_title', { key: instance.key, version: instance.version, id: instance.id })),
        h('span', { class: `status status-${instance.status}`, id: 'instance-status' }, status(instance.status)),
        instance.deal_id ? h('a', { href: `#/deals/${instance.deal_id}` }, t('monitoring:deal_link', { id: instance.deal_id })) : null,
        h('span', { class: 'spacer' }),
        h('span', { class: 'legend' }, h('i', { class: 'dot dot-active' }), `${t('monitoring:legend_active')} `, h('i', { class: 'dot dot-completed' }), t('monitoring:legend_completed')),
        h('button', { onclick: refresh }, t('monitoring:refresh')));
      const [xml, steps, problems] = await Promise.all([
        api.get(`/processes/${encodeURIComponent(instance.key)}/xml?version=${instance.version}`, { text: true }),
        api.get(`/instances/${id}/history?limit=200`),
        api.get(`/instances/${id}/incidents`),
      ]);
      await viewer.show(xml, {
        active: instance.active_elements, completed: instance.completed_elements,
        incidents: problems.filter((p) => p.status === 'open').map((p) => p.element_id).filter(Boolean),
      });
      clear(history, table([
        { title: t('monitoring:col.when'), render: (r) => formatDateTime(r.at) },
        { title: t('monitoring:col.element'), render: (r) => r.name || r.element_id },
        { title: t('monitoring:col.type'), key: 'type' },
        { title: t('monitoring:col.outcome'), key: 'outcome' },
      ], steps, { empty: t('monitoring:no_steps') }));
      clear(incidents, incidentTable(problems, refresh));
      clear(variables, table([
        { title: t('monitoring:col.name'), key: 'name' },
        { title: t('monitoring:col.value'), render: (r) => h('code', {}, JSON.stringify(r.value)) },
      ], Object.entries(instance.variables || {}).sort(([a], [b]) => a.localeCompare(b))
        .map(([name, value]) => ({ name, value })), { empty: t('monitoring:no_variables') }));
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
