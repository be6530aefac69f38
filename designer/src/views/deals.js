/** Deals by pipeline; `#/deals/<id>` is the deal card (views/deal.js). */
import { api } from '../api.js';
import { h, clear, toast, errorText, table } from '../ui.js';
import { t, formatMoney } from '../i18n.js';
import { dealCard } from './deal.js';

export function dealsView(params) {
  if (params[0]) return dealCard(Number(params[0]));
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
