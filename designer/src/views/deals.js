/** Deals by pipeline; a deal page with its timeline and automation log. */
import { api } from '../api.js';
import { h, clear, toast, errorText, when, table } from '../ui.js';

export function dealsView(params) {
  if (params[0]) return dealPage(Number(params[0]));
  const pipelineSelect = h('select', { 'aria-label': 'pipeline' });
  const list = h('div', { class: 'list-panel', id: 'deals' });
  const el = h('div', { class: 'page' }, h('div', { class: 'toolbar' }, h('h2', {}, 'Deals'), pipelineSelect), list);

  async function refresh() {
    try {
      const rows = await api.get(`/deals?pipeline=${encodeURIComponent(pipelineSelect.value)}&limit=100`);
      clear(list, table([
        { title: '#', key: 'id' },
        { title: 'Title', key: 'title' },
        { title: 'Stage', key: 'stage' },
        { title: 'Amount', render: (r) => `${r.amount ?? ''} ${r.currency ?? ''}` },
      ], rows, { onRowClick: (r) => { location.hash = `#/deals/${r.id}`; }, empty: 'No deals in this pipeline.' }));
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }
  pipelineSelect.addEventListener('change', refresh);

  return {
    el,
    async mounted() {
      const pipelines = await api.get('/pipelines');
      pipelineSelect.append(...pipelines.map((p) => h('option', { value: p.code }, p.name)));
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
