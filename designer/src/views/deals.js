/** Deals by pipeline; `#/deals/<id>` is the deal card (views/deal.js). */
import { api } from '../api.js';
import { h, clear, toast, errorText, table } from '../ui.js';
import { dealCard } from './deal.js';

export function dealsView(params) {
  if (params[0]) return dealCard(Number(params[0]));
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
