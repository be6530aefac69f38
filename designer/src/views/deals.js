/** Deals by pipeline; a deal page with its timeline and automation log. */
import { api } from '../api.js';
import { h, clear, toast, errorText, when, table } from '../ui.js';
import { t, formatMoney } from '../i18n.js';

export function dealsView(params) {
  if (params[0]) return dealPage(Number(params[0]));
  const pipelineSelect = h('select', { 'aria-label': t('deals:pipeline') });
  const list = h('div', { class: 'list-panel', id: 'deals' });
  const el = h('div', { class: 'page' }, h('div', { class: 'toolbar' }, h('h2', {}, t('deals:title')), pipelineSelect), list);
  let stageNames = {}; // stage code -> name, of the chosen pipeline: the list names stages, not codes

  async function refresh() {
    try {
      const rows = await api.get(`/deals?pipeline=${encodeURIComponent(pipelineSelect.value)}&limit=100`);
      clear(list, table([
        { title: '#', key: 'id' },
        { title: t('deals:col.title'), key: 'title' },
        { title: t('deals:col.stage'), render: (r) => stageNames[r.stage] || r.stage },
        { title: t('deals:col.amount'), render: (r) => formatMoney(r.amount, r.currency) },
      ], rows, { onRowClick: (r) => { location.hash = `#/deals/${r.id}`; }, empty: t('deals:none') }));
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }
  let pipelines = [];
  pipelineSelect.addEventListener('change', () => { names(); refresh(); });
  function names() {
    const chosen = pipelines.find((p) => p.code === pipelineSelect.value);
    stageNames = Object.fromEntries(((chosen && chosen.stages) || []).map((s) => [s.code, s.name]));
  }

  return {
    el,
    async mounted() {
      pipelines = await api.get('/pipelines');
      pipelineSelect.append(...pipelines.map((p) => h('option', { value: p.code }, p.name)));
      names();
      refresh();
    },
  };
}

function dealPage(id) {
  const header = h('div', { class: 'toolbar' }, h('a', { href: '#/deals' }, '← Deals'));
  const timeline = h('div', { class: 'list-panel', id: 'timeline' });
  const log = h('div', { class: 'list-panel', id: 'automation-log' });
  const el = h('div', { class: 'page' }, header, h('div', { class: 'two-columns' },
    h('section', {}, h('h3', {}, 'Timeline'), timeline),
    h('section', {}, h('h3', {}, 'Automation log'), log)));
  return {
    el,
    async mounted() {
      try {
        const [deal, entries, automation, instances] = await Promise.all([
          api.get(`/deals/${id}`), api.get(`/deals/${id}/timeline?limit=200`),
          api.get(`/deals/${id}/automation-log?limit=200`), api.get(`/instances?deal_id=${id}`),
        ]);
        clear(header, h('a', { href: '#/deals' }, '← Deals'), h('h2', {}, `${deal.title}`),
          h('span', { class: 'status' }, deal.stage_ref),
          instances.map((i) => h('a', { href: `#/monitoring/instance/${i.id}`, class: 'small' }, `${i.key} #${i.id} (${i.status})`)));
        clear(timeline, table([
          { title: 'When', render: (r) => when(r.at) },
          { title: 'What', key: 'text' },
          { title: 'Why', render: (r) => (r.cause && (r.cause.label || r.cause.kind)) || '' },
        ], entries));
        clear(log, table([
          { title: 'When', render: (r) => when(r.at) },
          { title: 'Robot / trigger', render: (r) => `${r.kind} ${r.name || r.key}` },
          { title: 'Outcome', key: 'outcome' },
          { title: 'Reason', key: 'reason' },
        ], automation));
      } catch (err) {
        toast(errorText(err), 'error');
      }
    },
  };
}
