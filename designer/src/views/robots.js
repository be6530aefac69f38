/**
 * Robots and triggers of a pipeline: a board (stages as columns, robots and triggers as cards
 * in plain words) and the DSL text in CodeMirror. Both show the same text; the server checks
 * it as it is typed and refuses to save it with errors.
 */
import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { lintGutter, forceLinting } from '@codemirror/lint';
import { api, once } from '../api.js';
import { h, clear, toast, errorText, debounce } from '../ui.js';
import { t, formatDateTime } from '../i18n.js';
import { guardUnsaved } from '../unsaved.js';
import { dslLanguage, dslHighlight, dslCompletion, serverLinter } from '../dsl/language.js';
import { outline, plainAction } from '../dsl/outline.js';
import { whenWords } from '../dsl/when.js';
import { fieldLabel } from '../actionform.js';
import { vocabulary } from '../vocabulary.js';
import { openItemForm } from './robotform.js';
import { openVersions } from './robotversions.js';
import './robots.css';

export function robotsView(params) {
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const board = h('div', { class: 'board', id: 'board', tabindex: '0', role: 'region', 'aria-label': t('robots:board_label') });
  const editorHost = h('div', { class: 'editor', id: 'dsl-editor' });
  const errorsBox = h('div', { class: 'dsl-errors', id: 'dsl-errors', role: 'alert' });
  const status = h('span', { class: 'muted small' });
  const saveButton = h('button', { class: 'primary', 'data-action': 'save-robots', onclick: () => save() }, t('common:form.save'));
  const boardButton = h('button', { 'data-action': 'show-board', onclick: () => show('board') }, t('robots:board'));
  const textButton = h('button', { 'data-action': 'show-text', onclick: () => show('text') }, t('robots:text'));
  const versionsButton = h('button', { 'data-action': 'show-versions', onclick: () => openVersions(scope) }, t('robots:versions'));
  const applyBox = h('input', { type: 'checkbox', id: 'apply-existing' });
  const el = h('div', { class: 'robots-layout' },
    h('div', { class: 'toolbar' }, tabs, h('span', { class: 'spacer' }), status, boardButton, textButton, versionsButton,
      h('label', { class: 'inline small', title: t('robots:apply_title') }, applyBox, t('robots:apply')),
      saveButton),
    board,
    h('div', { class: 'editor-wrap' }, editorHost, errorsBox));

  let scope = params[0] || 'main';
  let pipelines = [];
  let view;
  let vocab = null;
  let actionCatalog = [];
  let mode = 'board';
  let lastErrors = [];
  let savedText = null; // the text as the server has it; anything else is unsaved work
  // The server's outline of the text in the editor: each robot step's `when` by its line, so a
  // card says its delay in the reader's language. Null words: the text does not parse (yet),
  // and the cards show the delay as written until it does.
  let described = { text: null, whens: null };
  let describing = null; // the text whose outline is being asked for
  const unguard = guardUnsaved(() => Boolean(view) && savedText !== null && text() !== savedText);

  function show(which) {
    mode = which;
    board.hidden = which !== 'board';
    editorHost.parentElement.hidden = which !== 'text';
    boardButton.classList.toggle('active', which === 'board');
    textButton.classList.toggle('active', which === 'text');
    if (which === 'board') drawBoard();
    else view.focus();
  }

  function text() {
    return view.state.doc.toString();
  }

  /** The outline of `value` from the server; the board is drawn again with it if the text is still the same. */
  async function describeText(value) {
    if (describing === value || described.text === value) return;
    describing = value;
    let whens = null;
    try {
      const model = await api.post(`/robots/${encodeURIComponent(scope)}/outline`, { text: value });
      whens = new Map();
      for (const stage of model.stages) {
        for (const robot of stage.robots) {
          whens.set(robot.line, robot.when);
          for (const step of robot.then) whens.set(step.line, step.when);
        }
      }
    } catch {
      whens = null; // a text with errors: its words as written until it parses
    }
    if (describing === value) describing = null;
    if (!view || value !== text()) return;
    described = { text: value, whens };
    if (mode === 'board') drawBoard();
  }
  const describeSoon = debounce((value) => describeText(value), 300);

  /** A card's "when" in the reader's words, from the server's outline once it has the text. */
  function whenOf(c, current) {
    if (c.kind === 'trigger') return c.when;
    const spec = described.text === current && described.whens ? described.whens.get(c.line) : null;
    if (!spec) return c.when;
    const said = whenWords(spec, { fieldLabel: (code) => fieldLabel(code, vocab, scope) });
    return c.kind === 'then' ? t('robots:then', { when: said }) : said;
  }

  function drawBoard() {
    const current = text();
    if (described.text !== current) describeSoon(current);
    const { stages, loose } = outline(current);
    const pipeline = pipelines.find((p) => p.code === scope);
    const columns = pipeline ? pipeline.stages : stages.map((s) => ({ code: s.code, name: s.code }));
    const byCode = Object.fromEntries(stages.map((s) => [s.code, s]));
    const editable = scope !== 'global';
    const ANY_STAGE = () => ({ code: null, name: t('robots:any_stage') });
    const card = (c, stage, place) => h('div', {
      class: `card card-${c.kind}`, dataset: { kind: c.kind, line: c.line, index: place }, title: t('robots:card_title', { line: c.line }),
      onclick: () => { show('text'); goTo(c.line, 1); },
    },
      h('div', { class: 'card-title' }, h('span', { class: `tag tag-${c.kind}` }, t(`robots:kind.${c.kind}`, { defaultValue: c.kind })), ' ', c.name || t('robots:unnamed'),
        stage ? h('button', {
          class: 'icon card-edit', 'data-action': 'edit-item', title: t('robots:edit'), 'aria-label': t('robots:edit_named', { name: c.name || t('robots:unnamed') }),
          onclick: (ev) => { ev.stopPropagation(); editItem(c.kind === 'trigger' ? 'trigger' : 'robot', stage, place); },
        }, '✎') : null),
      h('div', { class: 'card-when' }, whenOf(c, current)),
      c.condition ? h('div', { class: 'card-if' }, t('robots:only_if', { condition: c.condition })) : null,
      h('ul', { class: 'card-actions' }, c.actions.map((a) => h('li', {}, plainAction(a)))));
    const cardsOf = (block, stage) => {
      let robots = -1;
      let triggers = -1;
      return block.cards.map((c) => {
        if (c.kind === 'robot') robots += 1;
        if (c.kind === 'trigger') triggers += 1;
        return card(c, stage, c.kind === 'trigger' ? triggers : robots);
      });
    };
    clear(board,
      loose.length || scope === 'global' || pipeline ? h('div', { class: 'column', dataset: { stage: '' } },
        h('h4', {}, t('robots:loose_triggers')),
        h('div', { class: 'column-tools' },
          h('button', { class: 'small', 'data-action': 'add-trigger', onclick: () => addItem('trigger', ANY_STAGE()) }, `+ ${t('robots:trigger')}`)),
        loose.length ? loose.map((c, i) => card(c, ANY_STAGE(), i)) : h('p', { class: 'empty small' }, t('robots:no_triggers'))) : null,
      columns.map((s) => {
        const block = byCode[s.code];
        const on = !(block && block.robotsOff);
        return h('div', { class: 'column', dataset: { stage: s.code } },
          h('h4', {}, s.name, h('span', { class: 'muted small' }, ` ${s.code}`)),
          editable ? h('div', { class: 'column-tools' },
            h('button', { class: 'small', 'data-action': 'add-robot', onclick: () => addItem('robot', s) }, `+ ${t('robots:robot')}`),
            h('button', { class: 'small', 'data-action': 'add-trigger', onclick: () => addItem('trigger', s) }, `+ ${t('robots:trigger')}`),
            h('label', { class: 'inline small', title: t('robots:stage_switch_title') },
              h('input', { type: 'checkbox', 'data-action': 'robots-on', checked: on, onchange: (ev) => switchStage(s, ev.target) }),
              ` ${t('robots:robots_on')}`)) : null,
          !on ? h('p', { class: 'muted small' }, t('robots:robots_off')) : null,
          block && block.cards.length ? cardsOf(block, s) : h('p', { class: 'empty small' }, t('robots:no_robots')));
      }));
  }

  /** The operation applied by the server to the text in the editor; the new text is saved
   * when it checks. Resolves true, or to the problems to show on the form's fields. */
  async function applyEdit(operation) {
    let result;
    try {
      result = await api.post(`/robots/${encodeURIComponent(scope)}/edit`, { text: text(), operation });
    } catch (err) {
      if (err.status === 422 && Array.isArray(err.body.details)) return err.body.details;
      return [{ field: null, message: errorText(err) }];
    }
    const onForm = result.errors.filter((e) => e.field);
    if (onForm.length) return result.errors;
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: result.text } });
    if (result.errors.length) {
      showErrors(result.errors);
      toast(t('robots:edited_not_saved', { count: result.errors.length }), 'error');
      return true;
    }
    await save();
    return true;
  }

  async function structured() {
    try {
      return await api.post(`/robots/${encodeURIComponent(scope)}/outline`, { text: text() });
    } catch (err) {
      toast(t('robots:fix_text_first', { reason: errorText(err) }), 'error');
      show('text');
      return null;
    }
  }

  function addItem(kind, stage) {
    openItemForm({
      kind, stageName: stage.name, anyStage: stage.code === null, item: null, vocab, actions: actionCatalog, scope,
      submit: (item) => applyEdit({ op: 'add', kind, stage: stage.code, item }),
    });
  }

  async function editItem(kind, stage, index) {
    const model = await structured();
    if (!model) return;
    const block = stage.code === null ? { triggers: model.triggers, robots: [] } : model.stages.find((s) => s.code === stage.code);
    const item = block && (kind === 'trigger' ? block.triggers : block.robots)[index];
    if (!item) return;
    openItemForm({
      kind, stageName: stage.name, anyStage: stage.code === null, item, vocab, actions: actionCatalog, scope,
      submit: (changed) => applyEdit({ op: 'update', kind, stage: stage.code, index, item: changed }),
      remove: () => applyEdit({ op: 'remove', kind, stage: stage.code, index }),
    });
  }

  async function switchStage(stage, box) {
    const result = await applyEdit({ op: 'switch', stage: stage.code, enabled: box.checked });
    if (result !== true) {
      box.checked = !box.checked;
      toast(result.map((p) => p.message).join('; '), 'error');
    }
  }

  async function check(value) {
    try {
      const result = await api.post('/robots/validate', { text: value, scope: scope === 'global' ? null : scope });
      showErrors(result.errors);
      return result.errors;
    } catch (err) {
      return [];
    }
  }

  function showErrors(errors) {
    lastErrors = errors;
    clear(errorsBox, errors.map((e) => h('div', { class: 'dsl-error' },
      h('a', {
        href: `#/robots/${scope}`,
        onclick: (ev) => { ev.preventDefault(); goTo(e.line, e.column); },
      }, e.line ? t('robots:at', { line: e.line, column: e.column }) : t('robots:file')), `: ${e.message}`)));
    status.textContent = errors.length ? t('robots:errors', { count: errors.length }) : t('robots:no_errors');
    status.className = errors.length ? 'status-bad small' : 'muted small';
  }

  function goTo(line, column) {
    if (!line) return;
    const l = view.state.doc.line(Math.min(line, view.state.doc.lines));
    const pos = Math.min(l.from + (column || 1) - 1, l.to);
    view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
    view.focus();
  }

  async function load() {
    try {
      const automation = await api.get(`/robots/${encodeURIComponent(scope)}`);
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: automation.text } });
      savedText = automation.text;
      describeText(automation.text); // the cards' delays in words as soon as the server has read the text
      status.textContent = automation.version
        ? t('robots:saved_by', { version: automation.version, when: formatDateTime(automation.saved_at), who: automation.saved_by })
        : t('robots:not_saved_yet');
      showErrors([]);
      drawBoard();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  async function save() {
    const errors = await check(text());
    forceLinting(view);
    if (errors.length) {
      show('text');
      toast(t('robots:not_saved_errors', { count: errors.length }), 'error');
      return;
    }
    try {
      const sent = text();
      const saved = await api.put(`/robots/${encodeURIComponent(scope)}?apply_to_existing=${applyBox.checked}`, { text: sent });
      savedText = sent;
      toast(saved.applied_to ? t('robots:saved_replanned', { scope, version: saved.version, count: saved.applied_to })
        : t('robots:saved', { scope, version: saved.version }));
      status.textContent = t('robots:saved_now', { version: saved.version });
    } catch (err) {
      if (err.status === 422 && Array.isArray(err.body.details)) {
        showErrors(err.body.details);
        show('text');
      }
      toast(t('robots:not_saved', { reason: errorText(err) }), 'error');
    }
  }

  async function drawTabs() {
    pipelines = await api.get('/pipelines');
    clear(tabs, [...pipelines.map((p) => ({ code: p.code, name: p.name })), { code: 'global', name: t('robots:global') }].map((p) =>
      h('a', {
        href: `#/robots/${p.code}`, role: 'tab', 'aria-selected': String(p.code === scope), class: p.code === scope ? 'tab active' : 'tab', dataset: { scope: p.code },
      }, p.name)));
  }

  return {
    el,
    async mounted() {
      view = new EditorView({
        parent: editorHost,
        extensions: [
          basicSetup, dslLanguage, dslHighlight, lintGutter(),
          dslCompletion(() => vocab, () => scope),
          serverLinter(check),
          keymap.of([{ key: 'Mod-s', run: () => { save(); return true; } }]),
          EditorView.updateListener.of((u) => { if (u.docChanged && mode === 'board') drawBoard(); }),
        ],
      });
      window.dealflowEditor = view; // for the browser tests and the console
      const [actions, words] = await Promise.all([once('/actions'), vocabulary(), drawTabs()]);
      actionCatalog = actions;
      const stageNames = Object.fromEntries(pipelines.flatMap((p) => p.stages.map((s) => [`${p.code}.${s.code}`, s.name])));
      vocab = { ...words, actions, stageNames };
      await load();
      show('board');
    },
    destroy() {
      unguard();
      if (view) view.destroy();
      delete window.dealflowEditor;
    },
    errors: () => lastErrors,
  };
}
