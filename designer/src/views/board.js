/**
 * The deals board (kanban) of one pipeline: stages as columns with their count and sum, deal
 * cards with the activity badges, drag and drop (SortableJS) or "Move to…" from the keyboard.
 * One request reads the board (GET /pipelines/<code>/board, filtered by the server with the
 * deal list's access rules); a move goes through POST /deals/<id>/move like any other, so
 * robots fire and stage gates apply. A gate's refusal opens its form; filling it retries the
 * move with the fields in the same request. Other people's moves arrive over socket.io, and
 * so do deals that newly come into the person's view.
 */
import Sortable from 'sortablejs';
import { api } from '../api.js';
import { h, clear, toast, debounce } from '../ui.js';
import { t, formatMoney } from '../i18n.js';
import { fieldForm, openDialog, errorsByField } from '../forms.js';
import { watch } from '../live.js';

const PER_STAGE = 20;

export function boardView(params, { user } = {}) {
  const code = params[0] || 'main';
  const state = { board: null, cards: new Map(), filter: 'all', responsible: '', q: '' };
  const unwatch = new Map(); // room -> stop
  const sortables = [];

  const pipelineSelect = h('select', { 'aria-label': t('board:pipeline'), id: 'board-pipeline',
    onchange: () => { location.hash = `#/board/${pipelineSelect.value}`; } });
  const scopeSelect = h('select', { 'aria-label': t('board:filter.show'), id: 'board-scope',
    onchange: () => { state.filter = scopeSelect.value; reload(); } },
  h('option', { value: 'all' }, t('board:filter.all')),
  h('option', { value: 'mine' }, t('board:filter.mine')),
  h('option', { value: 'department' }, t('board:filter.department')));
  const responsibleSelect = h('select', { 'aria-label': t('board:filter.responsible'), id: 'board-responsible',
    onchange: () => { state.responsible = responsibleSelect.value; reload(); } },
  h('option', { value: '' }, t('board:filter.anyone')));
  const search = h('input', { type: 'search', id: 'board-search', placeholder: t('board:filter.search'),
    'aria-label': t('board:filter.search'), oninput: debounce(() => { state.q = search.value.trim(); reload(); }, 300) });
  const columns = h('div', { class: 'board', id: 'board', role: 'list', 'aria-label': t('board:title') });
  const el = h('div', { class: 'page board-page' },
    h('div', { class: 'toolbar' }, h('h2', {}, t('board:title')), pipelineSelect,
      h('span', { class: 'spacer' }), scopeSelect, responsibleSelect, search),
    columns);

  function query(extra = {}) {
    const p = new URLSearchParams({ per_stage: String(PER_STAGE), ...extra });
    if (state.filter === 'mine') p.set('mine', 'true');
    if (state.filter === 'department') p.set('department', 'mine');
    if (state.responsible) p.set('responsible', state.responsible);
    if (state.q) p.set('q', state.q);
    return p.toString();
  }

  async function reload() {
    try {
      state.board = await api.get(`/pipelines/${encodeURIComponent(code)}/board?${query()}`);
      render();
    } catch (err) {
      toast(err.message, 'error');
    }
  }
  const reloadSoon = debounce(reload, 250);

  function stageName(stageCode) {
    return state.board.stages.find((s) => s.code === stageCode)?.name || stageCode;
  }

  function sums(stage) {
    const entries = Object.entries(stage.sums || {});
    if (!entries.length) return formatMoney(0, 'RUB');
    return entries.map(([currency, amount]) => formatMoney(amount, currency)).join(' + ');
  }

  function badge(kind, text, label) {
    return h('span', { class: `badge badge-${kind}`, title: label, 'aria-label': label }, text);
  }

  function cardEl(card, stage) {
    state.cards.set(String(card.id), { ...card, stage: stage.code });
    const badges = [];
    if (card.tasks.open) badges.push(badge('open', `✓ ${card.tasks.open}`, t('board:badge.open', { count: card.tasks.open })));
    if (card.tasks.today) badges.push(badge('today', `◷ ${card.tasks.today}`, t('board:badge.today', { count: card.tasks.today })));
    if (card.tasks.overdue) badges.push(badge('overdue', `! ${card.tasks.overdue}`, t('board:badge.overdue', { count: card.tasks.overdue })));
    if (card.no_next_step) badges.push(badge('none', t('board:badge.no_next_step_short'), t('board:badge.no_next_step')));
    const moveButton = h('button', { type: 'button', class: 'small board-move', 'aria-haspopup': 'dialog',
      'aria-describedby': `board-card-${card.id}`, // "Move to…" for the deal named by the title
      onclick: () => chooseStage(card) }, t('board:move.to'));
    return h('article', { class: 'board-card', role: 'listitem', dataset: { id: String(card.id) } },
      h('a', { class: 'board-card-title', id: `board-card-${card.id}`, href: `#/deals/${card.id}` }, card.title),
      h('div', { class: 'board-card-amount' }, formatMoney(card.amount, card.currency)),
      card.contact ? h('div', { class: 'board-card-line' }, h('span', { class: 'muted' }, t('board:card.contact')), ' ', card.contact) : null,
      h('div', { class: 'board-card-line' }, h('span', { class: 'muted' }, t('board:card.responsible')), ' ',
        card.responsible ? card.responsible.name : t('board:card.nobody')),
      card.loss_reason ? h('div', { class: 'board-card-line' }, h('span', { class: 'muted' }, t('board:card.loss_reason')), ' ', card.loss_reason) : null,
      h('div', { class: 'board-card-foot' }, h('span', { class: 'badges' }, badges), moveButton));
  }

  function columnEl(stage) {
    const list = h('div', { class: 'board-cards', role: 'list', 'aria-label': stage.name, dataset: { stage: stage.code } },
      stage.cards.map((card) => cardEl(card, stage)));
    const more = stage.more ? h('button', { type: 'button', class: 'small wide board-more',
      onclick: () => loadMore(stage, list, more) }, t('board:more')) : null;
    const gate = stage.required_fields.length
      ? h('div', { class: 'board-gate small muted', title: stage.required_fields.map((f) => f.label).join(', ') },
        t('board:gate.requires', { fields: stage.required_fields.map((f) => f.label).join(', ') }))
      : null;
    return h('section', { class: `board-column board-column-${stage.kind}`, role: 'listitem',
      dataset: { stage: stage.code }, 'aria-label': stage.name },
    h('header', { class: 'board-column-head' },
      h('h3', {}, stage.name),
      h('div', { class: 'board-column-totals' },
        h('span', { class: 'board-count', 'aria-label': t('board:deals', { count: stage.count }) }, String(stage.count)),
        h('span', { class: 'board-sum' }, sums(stage))),
      gate),
    list, more);
  }

  async function loadMore(stage, list, button) {
    try {
      const offset = list.children.length;
      const page = await api.get(`/pipelines/${encodeURIComponent(code)}/board?${query({ stage: stage.code, offset: String(offset) })}`);
      const next = page.stages[0];
      list.append(...next.cards.map((card) => cardEl(card, stage)));
      if (!next.more) button.remove();
    } catch (err) {
      toast(err.message, 'error');
    }
  }

  function render() {
    sortables.splice(0).forEach((s) => s.destroy());
    state.cards.clear();
    clear(columns, state.board.stages.map(columnEl));
    for (const list of columns.querySelectorAll('.board-cards')) {
      sortables.push(Sortable.create(list, {
        // forceFallback: pointer events rather than native drag and drop, the same on touch screens.
        group: 'deals', animation: 120, draggable: '.board-card', filter: 'button, a', preventOnFilter: false,
        forceFallback: true, fallbackOnBody: true,
        onEnd: (evt) => {
          if (evt.from === evt.to) return;
          const card = state.cards.get(evt.item.dataset.id);
          move(card, evt.to.dataset.stage);
        },
      }));
    }
    followLive();
  }

  function chooseStage(card) {
    const others = state.board.stages.filter((s) => s.code !== card.stage);
    const form = fieldForm([{ name: 'stage', label: t('board:move.stage'), type: 'enum', required: true,
      options: others.map((s) => ({ value: s.code, label: s.name })) }], { idPrefix: 'move' });
    openDialog({
      title: t('board:move.title', { title: card.title }),
      body: form.el,
      submitLabel: t('board:move.submit'),
      onSubmit: async () => {
        if (Object.keys(form.validate()).length) return false;
        move(card, form.values().stage);
        return true;
      },
    });
    form.el.querySelector('select')?.focus();
  }

  /** Move, or show why not; the board is re-read either way, so a refused card goes back. */
  async function move(card, stageCode, extra = {}) {
    try {
      await api.post(`/deals/${card.id}/move`, { stage: stageCode, version: card.version, ...extra });
      toast(t('board:moved', { title: card.title, stage: stageName(stageCode) }));
      await reload();
      return true;
    } catch (err) {
      await reload();
      if (err.status === 422 && err.body.code === 'stage_gate') {
        gateDialog(card, stageCode, err.body.details);
        return false;
      }
      toast(refusal(err, card), 'error');
      return false;
    }
  }

  function refusal(err, card) {
    if (err.status === 409) return t('board:refused.conflict', { title: card.title });
    if (err.status === 403) return t('board:refused.forbidden');
    if (err.status === 404) return t('board:refused.gone');
    return t('board:refused.other', { reason: err.message });
  }

  function gateDialog(card, stageCode, details) {
    const fields = (details.missing || []).map((f) => ({ ...f, required: true }));
    if (details.loss_reasons) {
      fields.push({ name: 'loss_reason', label: t('board:gate.loss_reason'), type: 'enum', required: true,
        options: details.loss_reasons });
    }
    const form = fieldForm(fields, { idPrefix: 'gate' });
    const intro = h('p', { class: 'muted' }, details.loss_reasons && !(details.missing || []).length
      ? t('board:gate.intro_lost', { stage: stageName(stageCode) })
      : t('board:gate.intro', { stage: stageName(stageCode) }));
    const dialog = openDialog({
      title: t('board:gate.title', { title: card.title }),
      body: h('div', {}, intro, form.el),
      submitLabel: t('board:gate.submit'),
      onSubmit: async () => {
        if (Object.keys(form.validate()).length) return false;
        const values = form.values();
        const { loss_reason: lossReason, ...rest } = values;
        const body = { stage: stageCode };
        if (Object.keys(rest).length) body.fields = rest;
        if (lossReason) body.loss_reason = lossReason;
        const fresh = state.cards.get(String(card.id)) || card;
        try {
          await api.post(`/deals/${card.id}/move`, { ...body, version: fresh.version });
        } catch (err) {
          const byField = errorsByField(err);
          form.showErrors(byField);
          dialog.status.textContent = err.status === 422 && err.body.code === 'stage_gate'
            ? t('board:gate.still_missing') : refusal(err, card);
          return false;
        }
        toast(t('board:moved', { title: card.title, stage: stageName(stageCode) }));
        reload();
        return true;
      },
    });
    dialog.dialog.querySelector('input, select, textarea')?.focus();
  }

  /**
   * The pipeline room for those who see every deal; the others follow the deals on their board,
   * and their own feed, where the server announces a deal that comes into their view (a new
   * order of their store, another store's deal once shipped): the board is re-read then.
   */
  function followLive() {
    const wanted = new Set([`pipeline:${code}`]);
    if (state.pipelineForbidden) {
      wanted.delete(`pipeline:${code}`);
      if (user) wanted.add(`feed:${user.id}`);
      for (const id of state.cards.keys()) wanted.add(`deal:${id}`);
    }
    for (const [room, stop] of unwatch) if (!wanted.has(room)) { stop(); unwatch.delete(room); }
    for (const room of wanted) if (!unwatch.has(room)) unwatch.set(room, watch(room, onLive));
  }

  function onLive(event, payload) {
    if (event === 'error' && payload && payload.room === `pipeline:${code}` && payload.code === 'forbidden') {
      if (!state.pipelineForbidden) {
        state.pipelineForbidden = true;
        followLive();
      }
      return;
    }
    if (['deal.moved', 'deal.created', 'deal.updated'].includes(event)) reloadSoon();
  }

  return {
    el,
    async mounted() {
      try {
        const [pipelines, users] = await Promise.all([api.get('/pipelines'), api.get('/users?per_page=100')]);
        pipelineSelect.append(...pipelines.map((p) => h('option', { value: p.code, selected: p.code === code }, p.name)));
        responsibleSelect.append(h('option', { value: 'none' }, t('board:filter.unassigned')),
          ...users.filter((u) => (u.roles || []).some((r) => r === 'manager' || r === 'head'))
            .map((u) => h('option', { value: u.login }, u.name)));
      } catch (err) {
        toast(err.message, 'error');
      }
      await reload();
    },
    destroy() {
      sortables.splice(0).forEach((s) => s.destroy());
      for (const stop of unwatch.values()) stop();
      unwatch.clear();
    },
  };
}
