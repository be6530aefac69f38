/**
 * Decision tables (DMN): the deployed decisions with their versions, edited with dmn-js and
 * deployed as a new version. dmn-js is large and only this screen needs it, so it is loaded
 * here with a dynamic import() the first time the screen opens, never with the app.
 *
 * Deploy errors come back per cell (docs/decisions.md): each names the cell's element id, so
 * the cell is marked in the table and the problem is listed under it; clicking the problem
 * selects its cell.
 */
import { api } from '../api.js';
import { translateModule } from '../modeler/translate.js';
import { t, formatDateTime } from '../i18n.js';
import { guardUnsaved, confirmLeave } from '../unsaved.js';
import { h, clear, toast, errorText, download } from '../ui.js';

let loading = null;

/** dmn-js's modeler and its styles, fetched once per page. */
function loadDmnJs() {
  loading = loading || Promise.all([
    import('dmn-js/lib/Modeler'),
    import('dmn-js/dist/assets/diagram-js.css'),
    import('dmn-js/dist/assets/dmn-js-shared.css'),
    import('dmn-js/dist/assets/dmn-js-drd.css'),
    import('dmn-js/dist/assets/dmn-js-decision-table.css'),
    import('dmn-js/dist/assets/dmn-js-decision-table-controls.css'),
    import('dmn-js/dist/assets/dmn-js-literal-expression.css'),
    import('dmn-js/dist/assets/dmn-font/css/dmn-embedded.css'),
  ]).then(([modeler]) => modeler.default).catch((err) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** A new table as dmn-js would draw it: one input on the deal's amount, one output. */
export function emptyDecision(key, name) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="${key}_definitions" name="${name}" namespace="https://dealflow.dev/decisions">
  <decision id="${key}" name="${name}">
    <decisionTable id="${key}_table" hitPolicy="UNIQUE">
      <input id="${key}_input" label="Amount">
        <inputExpression id="${key}_input_expression" typeRef="number"><text>deal.amount</text></inputExpression>
      </input>
      <output id="${key}_output" label="Result" name="result" typeRef="string" />
      <rule id="${key}_rule">
        <inputEntry id="${key}_rule_input"><text>-</text></inputEntry>
        <outputEntry id="${key}_rule_output"><text>"yes"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI><dmndi:DMNDiagram id="${key}_diagram"><dmndi:DMNShape id="${key}_shape" dmnElementRef="${key}"><dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape></dmndi:DMNDiagram></dmndi:DMNDI>
</definitions>`;
}

export function decisionsView() {
  const list = h('div', { class: 'decision-list' });
  const canvas = h('div', { class: 'dmn-canvas', id: 'dmn-canvas' });
  const problemsBar = h('div', { class: 'problems', id: 'problems' });
  const title = h('span', { class: 'doc-title' }, '');
  const versionSelect = h('select', { 'aria-label': t('decisions:versions'), class: 'versions' });
  const el = h('div', { class: 'decisions-layout' },
    h('aside', { class: 'sidebar' },
      h('button', { onclick: () => newDecision(), 'data-action': 'new-decision' }, t('decisions:new_decision')),
      h('h3', {}, t('decisions:deployed')),
      list),
    h('section', { class: 'modeler-center' },
      h('div', { class: 'toolbar' },
        title, versionSelect,
        h('span', { class: 'spacer' }),
        h('button', { class: 'primary', onclick: () => deploy(), 'data-action': 'deploy' }, t('decisions:deploy')),
        h('button', { onclick: () => downloadXml(), 'data-action': 'download' }, t('decisions:download'))),
      canvas,
      problemsBar));

  let modeler = null;
  let currentKey = null;
  let dirty = false;
  let destroyed = false;
  const unguard = guardUnsaved(() => dirty);

  function decisionOf() {
    const definitions = modeler.getDefinitions();
    return definitions && (definitions.get('drgElement') || []).find((e) => e.$type === 'dmn:Decision');
  }

  async function open(xml, note = '') {
    clearProblems();
    try {
      await modeler.importXML(xml);
      const table = modeler.getViews().find((v) => v.type === 'decisionTable');
      if (table) await modeler.open(table);
      const decision = decisionOf();
      currentKey = decision ? decision.id : null;
      title.textContent = decision ? `${decision.name || decision.id}${note ? ` ${note}` : ''}` : '';
      title.title = currentKey || '';
      watchChanges();
      dirty = false;
      await refreshVersions();
    } catch (err) {
      console.error(err);
      toast(t('decisions:cannot_open', { reason: err.message }), 'error');
    }
  }

  function watchChanges() {
    const viewer = modeler.getActiveViewer();
    if (viewer) viewer.on('elements.changed', () => { dirty = true; });
  }

  async function refreshList() {
    let decisions = [];
    try {
      decisions = await api.get('/decisions');
    } catch (err) {
      toast(errorText(err), 'error');
    }
    clear(list, decisions.length ? h('ul', { class: 'plain' }, decisions.map((d) => h('li', {},
      h('a', {
        href: '#', 'data-decision': d.key, title: d.key,
        onclick: (e) => { e.preventDefault(); if (confirmLeave()) openDeployed(d.key); },
      }, `${d.name} · v${d.version}`),
      h('div', { class: 'muted' }, t('decisions:summary', { policy: d.hit_policy, rules: d.rules }))))) :
      h('p', { class: 'empty' }, t('decisions:none')));
    return decisions;
  }

  async function refreshVersions() {
    clear(versionSelect, h('option', { value: '' }, t('decisions:versions_pick')));
    if (!currentKey) return;
    try {
      const versions = await api.get(`/decisions/${encodeURIComponent(currentKey)}/versions`);
      versionSelect.append(...versions.map((v) => h('option', { value: v.version }, `v${v.version} · ${formatDateTime(v.created_at)}`)));
    } catch {
      versionSelect.append(h('option', { value: '', disabled: true }, t('decisions:not_deployed')));
    }
  }

  versionSelect.addEventListener('change', async () => {
    if (!versionSelect.value || !confirmLeave()) return;
    const version = versionSelect.value;
    const xml = await api.get(`/decisions/${encodeURIComponent(currentKey)}/xml?version=${version}`, { text: true });
    await open(xml, `v${version}`);
  });

  async function openDeployed(key) {
    const xml = await api.get(`/decisions/${encodeURIComponent(key)}/xml`, { text: true });
    const versions = await api.get(`/decisions/${encodeURIComponent(key)}/versions`);
    await open(xml, `v${versions[0].version}`);
  }

  function newDecision() {
    if (!confirmLeave()) return;
    open(emptyDecision(`decision_${Date.now().toString(36)}`, t('decisions:new_decision_name')), t('decisions:draft_note'));
  }

  function clearProblems() {
    problemsBar.classList.remove('has-problems');
    clear(problemsBar);
    canvas.querySelectorAll('.df-cell-problem').forEach((c) => {
      c.classList.remove('df-cell-problem');
      c.removeAttribute('title');
    });
  }

  /** Each problem marked at its cell (by the element id the server names) and listed below. */
  function showProblems(details) {
    clearProblems();
    problemsBar.classList.add('has-problems');
    for (const problem of details) {
      const cell = problem.element ? canvas.querySelector(`[data-element-id="${CSS.escape(problem.element)}"]`) : null;
      if (cell) {
        cell.classList.add('df-cell-problem');
        cell.setAttribute('title', problem.message);
      }
      const where = [
        problem.rule ? t('decisions:rule', { number: problem.rule }) : '',
        problem.line ? t('decisions:line', { line: problem.line }) : '',
      ].filter(Boolean).join(', ');
      problemsBar.append(h('a', {
        href: '#', class: 'problem', 'data-element': problem.element || '',
        onclick: (e) => { e.preventDefault(); if (cell) cell.click(); },
      }, where ? h('span', { class: 'problem-where' }, `${where}: `) : '', problem.message));
    }
  }

  async function deploy() {
    const { xml } = await modeler.saveXML({ format: true });
    try {
      const { decisions } = await api.post('/decisions', xml, { contentType: 'application/xml' });
      clearProblems();
      dirty = false;
      const names = decisions.map((d) => t('decisions:version_label', { name: d.name, version: d.version })).join(', ');
      toast(t('decisions:deploy_done', { names }), 'ok');
      const mine = decisions.find((d) => d.key === currentKey) || decisions[0];
      if (mine) title.textContent = `${mine.name} v${mine.version}`;
      await refreshList();
      await refreshVersions();
    } catch (err) {
      if (err.body && Array.isArray(err.body.details) && err.body.details.length) {
        showProblems(err.body.details);
        toast(t('decisions:deploy_refused', { count: err.body.details.length }), 'error');
      } else {
        toast(t('decisions:deploy_failed', { reason: errorText(err) }), 'error');
      }
    }
  }

  async function downloadXml() {
    const { xml } = await modeler.saveXML({ format: true });
    download(`${currentKey || 'decision'}.dmn`, xml, 'application/xml');
  }

  return {
    el,
    async mounted() {
      clear(canvas, h('p', { class: 'empty' }, t('decisions:loading')));
      let DmnModeler;
      try {
        DmnModeler = await loadDmnJs();
      } catch (err) {
        clear(canvas, h('p', { class: 'empty' }, t('decisions:cannot_load', { reason: err.message })));
        return;
      }
      if (destroyed) return;
      clear(canvas);
      // each view of dmn-js is its own diagram-js instance: each gets the translate override
      const translated = { additionalModules: [translateModule('dmn')] };
      modeler = new DmnModeler({ container: canvas, drd: translated, decisionTable: translated, literalExpression: translated });
      window.dealflowDecisions = modeler; // for the browser tests and the console
      modeler.on('views.changed', () => watchChanges());
      const decisions = await refreshList();
      if (destroyed) return;
      if (decisions.length) await openDeployed(decisions[0].key);
      else await open(emptyDecision(`decision_${Date.now().toString(36)}`, t('decisions:new_decision_name')), t('decisions:draft_note'));
    },
    destroy() {
      destroyed = true;
      unguard();
      if (modeler) modeler.destroy();
      delete window.dealflowDecisions;
    },
  };
}
