/**
 * Inputs for what robots (and anything else that calls actions) are made of, so a person fills
 * a form instead of writing DSL: one-line expression editors with completion from
 * GET /dsl/vocabulary, plain-words template inputs with `{field}` holes, a field picker that
 * inserts a field by its label, and an action with the form built from its parameter schema
 * (GET /actions). The values they give are the DSL text the server parses and checks; the
 * browser never writes the file itself.
 */
import { EditorView, keymap, placeholder as placeholderText } from '@codemirror/view';
import { EditorState } from '@codemirror/state';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { autocompletion, completionKeymap } from '@codemirror/autocomplete';
import { h, clear } from './ui.js';
import './actionform.css';
import { t } from './i18n.js';
import { dslLanguage, dslHighlight, dslCompletion } from './dsl/language.js';
import { actionName, actionDescription, actionCategory, parameterLabel, parameterHint } from './actions.js';

/** A field's label for people: the vocabulary's own when it has one, else the catalog's, else its code in words. */
export function fieldLabel(code, vocab, scope) {
  const own = vocab && vocab.labels && vocab.labels[scope] && vocab.labels[scope][code];
  if (own) return own;
  const words = code.replace(/_/g, ' ');
  return t(`robots:field.${code}`, { defaultValue: words.charAt(0).toUpperCase() + words.slice(1) });
}


function fieldsOf(vocab, scope) {
  const fields = (vocab && vocab.fields) || {};
  return fields[scope] || Object.assign({}, ...Object.values(fields));
}

/** Completion inside `{...}` holes only: plain words around them are not code. */
function templateCompletion(getVocabulary, getScope) {
  return autocompletion({
    override: [(context) => {
      const before = context.state.sliceDoc(0, context.pos);
      const open = before.lastIndexOf('{');
      if (open < 0 || before.lastIndexOf('}') > open) return null;
      const dotted = context.matchBefore(/(deal|event)\.[A-Za-z0-9_]*$/);
      if (!dotted) {
        const word = context.matchBefore(/[A-Za-z_]*$/);
        return { from: word.from, options: [{ label: 'deal', type: 'variable' }, { label: 'event', type: 'variable' }] };
      }
      const [base] = dotted.text.split('.');
      const vocab = getVocabulary() || {};
      const names = base === 'deal' ? Object.entries(fieldsOf(vocab, getScope()))
        : Object.entries(Object.assign({}, ...Object.values(vocab.events || {})));
      return { from: dotted.from + base.length + 1, options: names.map(([label, type]) => ({ label, type: 'property', detail: type })) };
    }],
  });
}

/**
 * A one-line editor: `mode` 'expression' (DSL highlighting and completion) or 'text' (plain
 * words; `{deal.field}` holes complete). `{ el, get value, insert(text), focus(), destroy() }`.
 */
export function lineEditor({ value = '', mode = 'expression', vocab, scope, label, name, placeholder = '', attrs = {}, onChange }) {
  const host = h('div', { class: `line-editor line-editor-${mode}`, dataset: { input: name } });
  const oneLine = EditorState.transactionFilter.of((tr) => (tr.docChanged && tr.newDoc.lines > 1 ? [] : tr));
  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: value || '',
      extensions: [
        oneLine, history(), placeholderText(placeholder),
        keymap.of([...completionKeymap, ...defaultKeymap, ...historyKeymap]),
        mode === 'expression' ? [dslLanguage, dslHighlight, dslCompletion(() => vocab, () => scope)] : templateCompletion(() => vocab, () => scope),
        EditorView.contentAttributes.of({ 'aria-label': label, spellcheck: 'false', ...attrs }),
        onChange ? EditorView.updateListener.of((update) => { if (update.docChanged) onChange(update.state.doc.toString()); }) : [],
      ],
    }),
  });
  return {
    el: host,
    get value() { return view.state.doc.toString(); },
    /** The element that takes the typing (the one `attrs` are on). */
    get content() { return view.contentDOM; },
    insert(text) {
      view.dispatch(insertion(view.state, text));
      view.focus();
    },
    set(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: text.length } });
    },
    focus() { view.focus(); },
    destroy() { view.destroy(); },
  };
}

/** The change that puts `text` where the cursor is (over the selection), the cursor after it. */
export function insertion(state, text) {
  const { from, to } = state.selection.main;
  return { changes: { from, to, insert: text }, selection: { anchor: from + text.length } };
}

/** What the field picker inserts for field `code`: `deal.code` in an expression, a `{deal.code}` hole in plain words. */
export function fieldReference(code, mode = 'expression') {
  return mode === 'text' ? `{deal.${code}}` : `deal.${code}`;
}

/** The deal's fields a picker offers, by label (its own, else the catalog's), with their codes and types. */
export function fieldChoices(vocab, scope, only) {
  return Object.entries(fieldsOf(vocab, scope))
    .filter(([, type]) => !only || only.includes(type))
    .map(([code, type]) => ({ code, type, label: fieldLabel(code, vocab, scope) }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

/**
 * A `<textarea>` as an editor the field picker can insert into (the multi-line DSL texts of
 * the BPMN panel): the text goes over the selection and an `input` event says it changed.
 */
export function textareaEditor(textarea) {
  return {
    el: textarea,
    get value() { return textarea.value; },
    insert(text) {
      textarea.setRangeText(text, textarea.selectionStart, textarea.selectionEnd, 'end');
      textarea.dispatchEvent(new Event('input', { bubbles: true }));
      textarea.focus();
    },
    focus() { textarea.focus(); },
    destroy() {},
  };
}

/** A select of the deal's fields by label; choosing one inserts `deal.code` (or `{deal.code}`) into `editor`. */
export function fieldPicker(editor, { vocab, scope, mode = 'expression', only }) {
  const entries = fieldChoices(vocab, scope, only);
  const select = h('select', { class: 'field-picker', 'aria-label': t('robots:insert_field'), title: t('robots:insert_field') },
    h('option', { value: '' }, t('robots:insert_field_option')),
    entries.map((f) => h('option', { value: f.code }, `${f.label} (${f.code})`)));
  select.addEventListener('change', () => {
    if (!select.value) return;
    editor.insert(fieldReference(select.value, mode));
    select.value = '';
  });
  return select;
}

/** A select of the pipelines' stages; choosing one makes `editor` that stage ("won", or "credit.new" in another pipeline). */
export function stagePicker(editor, { vocab, scope }) {
  const names = (vocab && vocab.stageNames) || {};
  const select = h('select', { class: 'field-picker', 'aria-label': t('robots:pick_stage'), title: t('robots:pick_stage') },
    h('option', { value: '' }, t('robots:pick_stage_option')),
    Object.entries((vocab && vocab.stages) || {}).map(([pipeline, codes]) => h('optgroup', { label: pipeline },
      codes.map((code) => {
        const ref = pipeline === scope ? code : `${pipeline}.${code}`;
        return h('option', { value: ref }, `${names[`${pipeline}.${code}`] || code} (${ref})`);
      }))));
  select.addEventListener('change', () => {
    if (!select.value) return;
    editor.set(JSON.stringify(select.value));
    select.value = '';
  });
  return select;
}

/** An editor with its field picker (or stage picker) and an error line under it, as one form row. */
export function editorRow({ label, name, value, mode = 'expression', vocab, scope, placeholder, hint, only, stages = false }) {
  const editor = lineEditor({ value, mode, vocab, scope, label, name, placeholder });
  const error = h('div', { class: 'field-error', role: 'alert' });
  const picker = stages ? stagePicker(editor, { vocab, scope }) : fieldPicker(editor, { vocab, scope, mode, only });
  const row = h('div', { class: 'form-row editor-row', dataset: { field: name } },
    h('span', { class: 'row-label' }, label),
    h('div', { class: 'editor-line' }, editor.el, picker),
    hint ? h('div', { class: 'muted small' }, hint) : null,
    error);
  return { row, editor, error };
}

/**
 * One action call as a form: the action picked from the catalog, then a row per parameter.
 * A text parameter takes plain words (with `{field}` holes), any other an expression; a person
 * may switch a text parameter to an expression. `value`: {name, args: [{name, value, text}]}
 * as the server's outline gives it (positional arguments are put on their parameters).
 *
 * Returns { el, value(), showErrors(byField), destroy() }; `value()` gives {name, args}
 * with every argument named, and `showErrors` takes messages keyed "name" or "args.<j>",
 * j being the argument's place in the last `value()`.
 */
export function actionForm({ actions, vocab, scope, value, name, onRemove }) {
  const byName = Object.fromEntries(actions.map((a) => [a.name, a]));
  const categories = new Map();
  for (const a of actions) {
    const key = actionCategory(a.category);
    if (!categories.has(key)) categories.set(key, []);
    categories.get(key).push(a);
  }
  const select = h('select', { 'aria-label': t('robots:action'), name: `${name}.name` },
    h('option', { value: '' }, t('robots:pick_action')),
    [...categories.entries()].map(([category, list]) => h('optgroup', { label: category },
      list.map((a) => h('option', { value: a.name, selected: value && a.name === value.name }, actionName(a))))));
  const nameError = h('div', { class: 'field-error', role: 'alert' });
  const description = h('p', { class: 'muted small action-description' });
  const params = h('div', { class: 'action-params' });
  let rows = [];
  let sent = [];
  let given = {};
  if (value && byName[value.name]) {
    const positional = byName[value.name].positional || [];
    (value.args || []).forEach((arg, i) => { given[arg.name || positional[i] || `#${i}`] = arg; });
  }

  function draw() {
    for (const r of rows) r.editor.destroy();
    rows = [];
    const action = byName[select.value];
    description.textContent = action ? actionDescription(action) : '';
    if (!action) { clear(params); return; }
    const positional = action.positional || [];
    const names = [...positional, ...Object.keys(action.parameters).filter((n) => !positional.includes(n))];
    const extra = Object.keys(given).filter((n) => !names.includes(n));
    const more = h('details', { class: 'more-params' }, h('summary', {}, t('robots:more_parameters')));
    const main = [];
    const optional = [];
    for (const param of [...names, ...extra]) {
      const spec = action.parameters[param] || { type: 'any', required: false };
      const old = given[param];
      const isText = spec.type === 'text' && (!old || typeof old.text === 'string');
      const mode = isText ? 'text' : 'expression';
      const shown = old ? (mode === 'text' ? old.text : old.value) : '';
      const label = `${parameterLabel(action, param)}${spec.required ? ' *' : ''}`;
      const built = editorRow({
        label, name: `${name}.${param}`, value: shown, mode, vocab, scope,
        placeholder: mode === 'text' ? t('robots:text_placeholder') : t('robots:expression_placeholder', { type: spec.type || 'any' }),
        hint: parameterHint(action, param), stages: spec.type === 'stage',
      });
      const r = { param, mode, required: Boolean(spec.required), ...built };
      if (spec.type === 'text') {
        const toggle = h('button', {
          type: 'button', class: 'small mode-toggle', title: t('robots:switch_mode'),
          onclick: () => {
            given = Object.fromEntries(rows.map((x) => [x.param, x.mode === 'text' ? { text: x.editor.value } : { value: x.editor.value }]));
            given[param] = r.mode === 'text' ? { value: r.editor.value ? JSON.stringify(r.editor.value) : '' } : { text: r.editor.value.replace(/^"|"$/g, '') };
            draw();
          },
        }, mode === 'text' ? t('robots:as_expression') : t('robots:as_text'));
        built.row.querySelector('.row-label').append(' ', toggle);
      }
      rows.push(r);
      (spec.required || positional.includes(param) || old ? main : optional).push(built.row);
    }
    more.append(...optional);
    clear(params, main, optional.length ? more : null);
  }
  select.addEventListener('change', () => { given = {}; draw(); });
  draw();

  const el = h('fieldset', { class: 'action-form', dataset: { action: name } },
    h('legend', {}, t('robots:action')),
    h('div', { class: 'action-head' }, select,
      onRemove ? h('button', { type: 'button', class: 'icon', title: t('robots:remove_action'), 'aria-label': t('robots:remove_action'), onclick: onRemove }, '×') : null),
    nameError, description, params);

  return {
    el,
    value() {
      sent = [];
      const args = [];
      for (const r of rows) {
        const text = r.editor.value;
        if (!text.trim()) continue;
        sent.push(r);
        args.push(r.mode === 'text' ? { name: r.param, text } : { name: r.param, value: text });
      }
      return { name: select.value, args };
    },
    showErrors(byField) {
      nameError.textContent = byField.name || byField[''] || '';
      for (const r of rows) r.error.textContent = '';
      for (const [key, message] of Object.entries(byField)) {
        const m = key.match(/^args\.(\d+)$/);
        if (m && sent[Number(m[1])]) sent[Number(m[1])].error.textContent = message;
        else if (key === 'args') nameError.textContent = message;
      }
    },
    /** Required parameters left empty, each marked on its row; the server would refuse them too. */
    missing() {
      let count = select.value ? 0 : 1;
      nameError.textContent = select.value ? '' : t('robots:pick_action');
      for (const r of rows) {
        const empty = r.required && !r.editor.value.trim();
        r.error.textContent = empty ? t('common:form.required') : '';
        count += empty ? 1 : 0;
      }
      return count;
    },
    destroy() { for (const r of rows) r.editor.destroy(); },
  };
}
