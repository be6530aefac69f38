/**
 * The BPMN modeler: open a deployed process or a draft, edit it with the dealflow panel,
 * validate, deploy as a new version, download/upload XML, browse versions.
 */
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import { api, once } from '../api.js';
import { translateModule } from '../modeler/translate.js';
import { t, formatDateTime } from '../i18n.js';
import { guardUnsaved, confirmLeave } from '../unsaved.js';
import { h, clear, toast, errorText, download } from '../ui.js';
import { dealflowModdle, spiffModdle } from '../bpmn/moddle.js';
import { checkText, editorContext } from '../bpmn/panel.js';
import { DealflowPropertiesProviderModule } from '../bpmn/provider.js';
import { createProblems } from '../bpmn/problems.js';
import { emptyDiagram } from '../bpmn/empty.js';
import { withLayout } from '../bpmn/layout.js';
import { fitDiagram } from '../bpmn/fit.js';
import { widenCutLabels } from '../bpmn/labels.js';
import { lintDiagram } from '../bpmn/lint.js';
import { parse, describe, diff } from '../bpmn/compare.js';
import { readOperator, readProperties, conditionOf, eventDefinition, readTimer } from '../bpmn/model.js';

const DRAFT_PREFIX = 'dealflow.draft.';
const PALETTE_ROOM = 130; // px left of the diagram kept free for the palette, until it is drawn and can be measured

export function drafts() {
  return Object.keys(localStorage).filter((k) => k.startsWith(DRAFT_PREFIX)).map((k) => {
    try {
      return { key: k.slice(DRAFT_PREFIX.length), ...JSON.parse(localStorage.getItem(k)) };
    } catch {
      return null;
    }
  }).filter(Boolean).sort((a, b) => a.key.localeCompare(b.key));
}

export function processesView() {
  const sidebar = h('aside', { class: 'sidebar' });
  const canvas = h('div', { class: 'canvas', id: 'canvas' });
  const panelColumn = h('aside', { class: 'properties' });
  const problemsBar = h('div', { class: 'problems', id: 'problems' });
  const compareBox = h('div', { class: 'compare', id: 'compare', hidden: true });
  const title = h('span', { class: 'doc-title' }, '');
  const versionSelect = h('select', { 'aria-label': t('processes:versions'), class: 'versions', title: t('processes:deployed_versions') });
  const fileInput = h('input', { type: 'file', accept: '.bpmn,.xml', hidden: true });
  const el = h('div', { class: 'modeler-layout' },
    sidebar,
    h('section', { class: 'modeler-center' },
      h('div', { class: 'toolbar' },
        title, versionSelect,
        h('span', { class: 'spacer' }),
        h('button', { onclick: () => saveDraft(), 'data-action': 'save-draft' }, t('processes:save_draft')),
        h('button', { onclick: () => validate(), 'data-action': 'validate' }, t('processes:validate')),
        h('button', { onclick: () => compare(), 'data-action': 'compare', title: t('processes:compare_title') }, t('processes:compare')),
        h('button', { class: 'primary', onclick: () => deploy(), 'data-action': 'deploy' }, t('processes:deploy')),
        h('button', { onclick: () => downloadXml(), 'data-action': 'download' }, t('processes:download')),
        h('button', { onclick: () => fileInput.click(), 'data-action': 'upload' }, t('processes:upload')),
        fileInput),
      compareBox,
      canvas,
      problemsBar),
    panelColumn);

  let modeler;
  let problems;
  let currentKey = null;
  let opens = 0; // diagrams opened on this page: the first one shown waits for nothing else
  let titleNote = null; // what the header says after the name: "(draft)", "v3", or nothing
  let savedAt = null; // the command stack's position when the diagram was last opened or saved; null while opening

  /** Unsaved: edited since it was opened, saved as a draft or deployed (unsaved.js asks before leaving). */
  function isDirty() {
    return Boolean(modeler) && savedAt !== null && modeler.get('commandStack')._stackIdx !== savedAt;
  }
  function markSaved() {
    if (modeler) savedAt = modeler.get('commandStack')._stackIdx;
  }
  const unguard = guardUnsaved(isDirty);

  function openIfLeaving(xml, label) {
    if (confirmLeave()) open(xml, label);
  }

  function processBo() {
    const root = modeler.get('canvas').getRootElement().businessObject;
    return root.$type === 'bpmn:Process' ? root : root.get('participants')[0].get('processRef');
  }

  /** The header names the process as it is now: renamed in the panel or deployed, it follows. */
  function showTitle() {
    const bo = processBo();
    const name = bo.get('name') || bo.id;
    title.textContent = titleNote ? `${name} ${titleNote}` : name;
    title.title = bo.id;
  }

  /** Room left of the diagram for the palette as drawn (one or two columns, by the height). */
  function paletteRoom() {
    const palette = canvas.querySelector('.djs-palette');
    if (!palette || !palette.offsetWidth) return PALETTE_ROOM;
    return palette.getBoundingClientRect().right - canvas.getBoundingClientRect().left + 24;
  }

  /** `note`: shown after the name ("(draft)", "v3"). */
  async function open(xml, note = null) {
    opens += 1;
    savedAt = null; // nothing to lose while a diagram is being opened
    problems.reset();
    compareBox.hidden = true;
    compared = [];
    try {
      const { warnings } = await modeler.importXML(await withLayout(xml));
      widenCutLabels(modeler);
      fitDiagram(modeler.get('canvas'), { left: paletteRoom(), pad: 32 });
      currentKey = processBo().id;
      titleNote = note;
      showTitle();
      if (warnings.length) toast(t('processes:opened_with_warnings', { count: warnings.length, first: warnings[0].message }), 'warn');
      markSaved();
      await refreshVersions();
    } catch (err) {
      console.error(err);
      toast(t('processes:cannot_open', { reason: err.message }), 'error');
    }
  }

  async function refreshVersions() {
    clear(versionSelect, h('option', { value: '' }, t('processes:versions_pick')));
    try {
      const versions = await api.get(`/processes/${encodeURIComponent(currentKey)}/versions`);
      versionSelect.append(...versions.map((v) => h('option', { value: v.version }, `v${v.version} · ${formatDateTime(v.created_at)}`)));
    } catch {
      versionSelect.append(h('option', { value: '', disabled: true }, t('processes:not_deployed')));
    }
  }

  versionSelect.addEventListener('change', async () => {
    if (!versionSelect.value) return;
    const version = versionSelect.value;
    const xml = await api.get(`/processes/${encodeURIComponent(currentKey)}/xml?version=${version}`, { text: true });
    if (!confirmLeave()) return;
    await open(xml, `v${version}`);
  });

  async function refreshSidebar() {
    let processes = [];
    try {
      processes = await api.get('/processes');
    } catch (err) {
      toast(errorText(err), 'error');
    }
    clear(sidebar,
      h('button', { class: 'primary wide', 'data-action': 'new-process', onclick: newProcess }, t('processes:new_process')),
      h('h4', {}, t('processes:deployed')),
      h('ul', { class: 'list' }, processes.map((p) => h('li', {},
        h('a', { href: '#/processes', 'data-process': p.key, onclick: (e) => { e.preventDefault(); openDeployed(p.key); } },
          p.name || p.key, h('span', { class: 'muted small' }, ` v${p.version}`))))),
      h('h4', {}, t('processes:drafts')),
      h('ul', { class: 'list' }, drafts().map((d) => h('li', {},
        h('a', { href: '#/processes', 'data-draft': d.key, onclick: (e) => { e.preventDefault(); openIfLeaving(d.xml, t('processes:draft_note')); } },
          d.key, h('span', { class: 'muted small' }, ` ${formatDateTime(d.saved_at)}`)),
        h('button', { class: 'icon', title: t('processes:delete_draft'), 'aria-label': t('processes:delete_draft'), onclick: () => { localStorage.removeItem(DRAFT_PREFIX + d.key); refreshSidebar(); } }, '×')))));
  }

  async function openDeployed(key) {
    if (!confirmLeave()) return;
    try {
      const xml = await api.get(`/processes/${encodeURIComponent(key)}/xml`, { text: true });
      await open(xml);
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function newProcess() {
    if (!confirmLeave()) return;
    const key = `process_${Date.now().toString(36)}`;
    open(emptyDiagram(key, t('processes:new_process_name')));
  }

  async function xml() {
    modeler.get('dealflowContext').flushWrites(); // text still being typed is part of what is saved
    return (await modeler.saveXML({ format: true })).xml;
  }

  async function saveDraft() {
    currentKey = processBo().id; // the key may have been renamed in the panel
    localStorage.setItem(DRAFT_PREFIX + currentKey, JSON.stringify({ xml: await xml(), saved_at: new Date().toISOString() }));
    toast(t('processes:draft_saved', { key: currentKey }));
    titleNote = t('processes:draft_note');
    showTitle();
    markSaved();
    refreshSidebar();
  }

  /** What a person calls the element: its name, else its kind ("Sequence flow"), never only the id. */
  function elementName(id) {
    const shape = modeler.get('elementRegistry').get(id);
    const bo = shape ? shape.businessObject : (id === processBo().id ? processBo() : null);
    if (!bo) return id;
    return bo.get('name') || t(`processes:kinds.${bo.$type.replace('bpmn:', '')}`, { defaultValue: bo.$type.replace('bpmn:', '') });
  }

  function showProblems(list) {
    clear(problemsBar, list.length ? [
      h('strong', {}, t('processes:problems', { count: list.length })),
      list.map((p) => h('a', {
        href: '#/processes', class: 'problem',
        onclick: (e) => {
          e.preventDefault();
          const shape = modeler.get('elementRegistry').get(p.id);
          if (shape) modeler.get('selection').select(shape);
        },
      }, h('span', { class: 'problem-where' }, elementName(p.id)), ' ', h('span', { class: 'muted small' }, p.id), `: ${p.message}`)),
    ] : []);
    problemsBar.classList.toggle('has-problems', list.length > 0);
  }

  /** The same checks the server makes at deploy, run on each text so errors land on their element. */
  async function validate({ quiet = false } = {}) {
    modeler.get('dealflowContext').flushWrites();
    problems.clear();
    const actions = Object.fromEntries((await once('/actions')).map((a) => [a.name, a]));
    const registry = modeler.get('elementRegistry');
    const checks = [];
    const add = (id, field, kind, text) => checks.push(checkText(kind, text).then((m) => problems.set(id, field, m)));
    for (const shape of registry.getAll()) {
      const bo = shape.businessObject;
      if (shape.type === 'label' || !bo) continue;
      if (bo.$type === 'bpmn:ServiceTask') {
        const { action, params } = readOperator(bo);
        if (!action) problems.set(bo.id, 'action', t('bpmn:pick_action'));
        else if (!actions[action]) problems.set(bo.id, 'action', t('bpmn:unknown_action', { action }));
        else {
          for (const [name, spec] of Object.entries(actions[action].parameters)) {
            if (spec.required && !params[name]) problems.set(bo.id, `param:${name}`, t('bpmn:param_required', { name }));
          }
        }
        for (const [name, text] of Object.entries(params)) add(bo.id, `param:${name}`, 'expression', text);
      }
      if (bo.$type === 'bpmn:SequenceFlow') add(bo.id, 'condition', 'expression', conditionOf(bo));
      if (bo.$type === 'bpmn:ScriptTask') add(bo.id, 'script', 'script', bo.get('script') || '');
      if (bo.$type === 'bpmn:UserTask') {
        const props = readProperties(bo);
        for (const name of ['title', 'description']) add(bo.id, `prop:${name}`, 'template', props[name]);
        for (const name of ['assignee', 'deadline']) add(bo.id, `prop:${name}`, 'expression', props[name]);
      }
      if (bo.get && bo.get('eventDefinitions')) {
        const timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
        if (timer) add(bo.id, 'timer', 'expression', readTimer(timer).text);
        const message = eventDefinition(bo, 'bpmn:MessageEventDefinition');
        if (message && !message.get('messageRef')) problems.set(bo.id, 'message', t('bpmn:pick_event'));
      }
    }
    await Promise.all(checks);
    for (const { id, message, rule } of await lintDiagram(modeler.getDefinitions())) {
      problems.set(id || processBo().id, `lint:${rule}`, message);
    }
    const count = problems.list().length;
    if (!quiet) toast(count ? t('processes:problems_found', { count }) : t('processes:no_problems'), count ? 'error' : 'info');
    return count === 0;
  }

  async function deploy() {
    if (!(await validate({ quiet: true }))) {
      toast(t('processes:fix_before_deploy'), 'error');
      return;
    }
    try {
      const version = await api.post('/processes', await xml(), { contentType: 'application/xml' });
      // a gateway that can leave an instance with no path deploys, with a warning (engine/gateways.py)
      const gateway = (version.warnings || []).find((w) => w.element);
      if (gateway) {
        const shape = modeler.get('elementRegistry').get(gateway.element);
        const name = shape?.businessObject?.name || gateway.element;
        toast(t('processes:deployed_gateway_warning', { key: version.key, version: version.version, name }), 'warn');
      } else toast(t('processes:deployed_as', { key: version.key, version: version.version }));
      markSaved();
      currentKey = version.key;
      titleNote = `v${version.version}`;
      showTitle();
      localStorage.removeItem(DRAFT_PREFIX + version.key);
      refreshSidebar();
      refreshVersions();
    } catch (err) {
      const details = err.body && Array.isArray(err.body.details) ? err.body.details : [];
      for (const d of details) problems.set(d.element || processBo().id, 'server', d.message);
      if (!details.length && err.status === 422) problems.set(processBo().id, 'server', err.message);
      toast(t('processes:deploy_refused', { reason: errorText(err) }), 'error');
    }
  }

  const COMPARE_MARKERS = ['df-added', 'df-changed'];
  let compared = [];

  function unmarkCompared() {
    const c = modeler.get('canvas');
    for (const [id, marker] of compared) c.removeMarker(id, marker);
    compared = [];
  }

  /** This diagram against a deployed version: changes listed, and marked on the diagram. */
  async function compare(version) {
    unmarkCompared();
    currentKey = processBo().id;
    let versions = [];
    try {
      versions = await api.get(`/processes/${encodeURIComponent(currentKey)}/versions`);
    } catch {
      toast(t('processes:nothing_to_compare'), 'error');
      return;
    }
    const against = version || versions[0].version;
    const older = await parse(await api.get(`/processes/${encodeURIComponent(currentKey)}/xml?version=${against}`, { text: true }));
    const result = diff(describe(older), describe(modeler.getDefinitions()));
    const registry = modeler.get('elementRegistry');
    const mark = (items, marker) => items.filter((i) => registry.get(i.id)).forEach((i) => {
      modeler.get('canvas').addMarker(i.id, marker);
      compared.push([i.id, marker]);
    });
    mark(result.added, COMPARE_MARKERS[0]);
    mark(result.changed, COMPARE_MARKERS[1]);
    const picker = h('select', { 'aria-label': t('processes:compare_with_version'), onchange: (e) => compare(Number(e.target.value)) },
      versions.map((v) => h('option', { value: v.version, selected: v.version === against }, `v${v.version}`)));
    const label = (i) => `${i.facts.name || i.id} (${i.facts.type})`;
    const none = !result.added.length && !result.removed.length && !result.changed.length;
    clear(compareBox,
      h('div', { class: 'compare-head' }, h('strong', {}, t('processes:compared_with')), picker,
        h('span', { class: 'spacer' }),
        h('button', { class: 'small', onclick: () => { compareBox.hidden = true; unmarkCompared(); } }, t('common:form.close'))),
      none ? h('p', { class: 'muted' }, t('processes:no_differences')) : null,
      result.added.map((i) => h('div', { class: 'diff diff-added', dataset: { element: i.id } }, `+ ${t('processes:added', { what: label(i) })}`)),
      result.removed.map((i) => h('div', { class: 'diff diff-removed', dataset: { element: i.id } }, `− ${t('processes:removed', { what: label(i) })}`)),
      result.changed.map((i) => h('div', { class: 'diff diff-changed', dataset: { element: i.id } }, `~ ${label(i)}: `,
        i.what.map((w) => h('span', { class: 'diff-what' }, `${w.key} `, h('del', {}, w.before || '∅'), ' → ', h('ins', {}, w.after || '∅'))))));
    compareBox.hidden = false;
  }

  async function downloadXml() {
    download(`${processBo().id}.bpmn`, await xml(), 'application/xml');
  }

  fileInput.addEventListener('change', async () => {
    const [file] = fileInput.files;
    if (file && confirmLeave()) await open(await file.text());
    fileInput.value = '';
  });

  return {
    el,
    async mounted() {
      modeler = new Modeler({
        container: canvas,
        propertiesPanel: { parent: panelColumn, layout: { groups: { dealflow: { open: true } } } },
        additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, DealflowPropertiesProviderModule, translateModule('diagram')],
        moddleExtensions: { dealflow: dealflowModdle, spiffworkflow: spiffModdle },
      });
      window.dealflowModeler = modeler; // for the browser tests and the console
      modeler.on('commandStack.changed', () => { if (currentKey) showTitle(); }); // renamed in the panel, undone
      problems = createProblems(modeler, showProblems);
      const context = modeler.get('dealflowContext');
      context.problems = problems;
      // the entries draw at once from what they are given: no redraw waits for the server; a
      // diagram opened before the catalog came is drawn again with it
      await Promise.all([refreshSidebar(), editorContext().then((loaded) => {
        Object.assign(context, loaded);
        modeler.get('eventBus').fire('propertiesPanel.providersChanged');
      })]);
      if (opens) return; // the person opened a diagram (an upload, a click) while the page was loading
      const [first] = drafts();
      await open(first ? first.xml : emptyDiagram(`process_${Date.now().toString(36)}`, t('processes:new_process_name')), first ? t('processes:draft_note') : null);
    },
    destroy() {
      unguard();
      if (modeler) modeler.destroy();
      delete window.dealflowModeler;
    },
  };
}
