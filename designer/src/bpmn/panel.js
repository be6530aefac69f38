/**
 * The dealflow section of the properties column: what the server needs that generic BPMN
 * panels do not know — the action of a service task with a form built from its schema, DSL
 * texts checked by the server as they are typed, timers, CRM events, process parameters.
 */
import { api, once } from '../api.js';
import { h, clear, debounce } from '../ui.js';
import { t } from '../i18n.js';
import {
  readOperator, writeOperator, readProperties, writeProperties, readProcessSettings, writeProcessSettings,
  readFormFields, writeFormFields,
  eventDefinition, TIMER_KINDS, readTimer, writeTimer, messageNamed, conditionOf, writeCondition,
} from './model.js';
import { takesTemplate, templateOf, expressionOf } from './texts.js';
import { actionName, actionDescription, actionCategory } from '../actions.js';
import { lineEditor, fieldPicker, textareaEditor } from '../actionform.js';

const PARAMETER_TYPES = ['string', 'number', 'money', 'date', 'datetime', 'bool', 'duration'];
/** What a user task's form may ask for (engine/bpmn.py FORM_FIELD_TYPES). */
const FORM_FIELD_TYPES = ['string', 'text', 'number', 'money', 'date', 'datetime', 'bool', 'enum', 'user'];
const USER_TASK_FIELDS = [
  { name: 'title', kind: 'template', labelKey: 'bpmn:task_title' },
  { name: 'description', kind: 'template', labelKey: 'bpmn:description', multiline: true },
  { name: 'assignee', kind: 'expression', labelKey: 'bpmn:assignee' },
  { name: 'group', kind: null, labelKey: 'bpmn:group' },
  { name: 'deadline', kind: 'expression', labelKey: 'bpmn:deadline' },
];

/**
 * @param modeler the bpmn-js Modeler
 * @param problems an object with set(elementId, field, message|null) that shows errors on the diagram
 */
export function createDealflowPanel(modeler, problems) {
  const el = h('section', { class: 'df-panel', 'aria-label': t('bpmn:panel_label') });

  function selected() {
    const selection = modeler.get('selection').get();
    return selection.length === 1 ? selection[0] : modeler.get('canvas').getRootElement();
  }

  let renders = 0;
  let destroyed = false;
  let ownEdit = false;
  /** Marks what happens now (and in this task's microtasks) as the panel's own edit. */
  function mine() {
    ownEdit = true;
    queueMicrotask(() => { ownEdit = false; });
  }
  /** Runs `edit` (a change through `modeling`) as the panel's own, however the editor reported it. */
  function own(edit) {
    const before = ownEdit;
    ownEdit = true;
    try { edit(); } finally { ownEdit = before; }
  }
  async function render() {
    if (destroyed) return; // a debounced render may fire after the modeler is gone
    const mine = ++renders;
    const element = selected();
    const bo = element.businessObject;
    const type = bo.$type;
    const title = h('h3', {}, bo.get('name') || bo.id, h('span', { class: 'muted small' }, ` ${type.replace('bpmn:', '')}`));
    const body = h('div', { class: 'df-body' });
    if (type === 'bpmn:Process' || type === 'bpmn:Collaboration') await renderProcess(body, element, bo);
    else if (type === 'bpmn:ServiceTask') await renderServiceTask(body, element, bo);
    else if (type === 'bpmn:ScriptTask') await renderScript(body, element, bo);
    else if (type === 'bpmn:UserTask') renderUserTask(body, element, bo);
    else if (type === 'bpmn:SequenceFlow') await renderFlow(body, element, bo);
    if (bo.get('eventDefinitions')) await renderEvent(body, element, bo);
    if (!body.childNodes.length) body.append(h('p', { class: 'muted' }, t('bpmn:nothing_here')));
    if (mine !== renders || destroyed) return; // a later selection's render wins over a slow earlier one
    for (const editor of editors.filter((e) => !body.contains(e.el))) editor.destroy();
    editors = editors.filter((e) => body.contains(e.el));
    clear(el, title, body);
  }

  // --- DSL fields, checked by the server as they are typed -----------------------------------
  // One-line texts are the robots board's editors (completion from GET /dsl/vocabulary; a
  // template completes inside its `{...}` holes); every DSL text has a field picker that
  // inserts a deal field chosen by its label. What they change goes through `onChange`, that
  // is through `modeling`, as a change of this panel's own (it does not redraw the panel).
  let editors = [];
  function dslField({ owner, label, value, kind, field, multiline, placeholder, onChange, vocab, plain }) {
    const message = h('div', { class: 'df-field-error', role: 'alert' });
    const { id } = owner;
    let marked = [];
    const check = debounce(async (text) => {
      if (!kind) return;
      const error = await checkText(kind, text);
      message.textContent = error || '';
      for (const node of marked) node.classList.toggle('invalid', Boolean(error));
      problems.set(id, field, error);
    }, 250);
    const changed = (text) => {
      own(() => onChange(text));
      check(text);
    };
    let editor;
    if (multiline || !kind || plain) {
      const input = multiline
        ? h('textarea', { rows: 3, spellcheck: 'false', placeholder, 'aria-label': label })
        : h('input', { spellcheck: 'false', placeholder, 'aria-label': label });
      input.value = value || '';
      input.dataset.field = field;
      input.addEventListener('input', () => changed(input.value));
      editor = textareaEditor(input);
      marked = [input];
    } else {
      editor = lineEditor({
        value, mode: kind === 'template' ? 'text' : 'expression', vocab, label, name: field, placeholder,
        attrs: { 'data-field': field }, onChange: changed,
      });
      editors.push(editor);
      marked = [editor.el, editor.content];
    }
    if (value) check(value);
    const picker = kind && vocab ? fieldPicker(editor, { vocab, mode: kind === 'template' ? 'text' : 'expression' }) : null;
    return h('div', { class: 'df-field' }, h('span', { class: 'df-label' }, label),
      h('div', { class: 'editor-line' }, editor.el, picker), message);
  }

  // --- process ---------------------------------------------------------------------------------
  async function renderProcess(body, root, bo) {
    const processBo = bo.$type === 'bpmn:Process' ? bo : bo.get('participants')[0]?.get('processRef');
    if (!processBo) return;
    const settings = readProcessSettings(processBo);
    const save = () => writeProcessSettings(modeler, root, processBo, settings);
    const params = h('div', { class: 'df-list' });
    const fields = h('div', { class: 'df-list' });
    const vocab = await vocabulary();
    const allFields = [...new Set(Object.values(vocab.fields || {}).flatMap((f) => Object.keys(f)))].sort();
    const drawParams = () => clear(params, settings.parameters.map((p, i) => h('div', { class: 'df-row df-parameter' },
      h('input', { value: p.name, placeholder: t('bpmn:name'), 'aria-label': t('bpmn:parameter_name'), oninput: (e) => { p.name = e.target.value; save(); } }),
      h('select', { 'aria-label': t('bpmn:parameter_type'), onchange: (e) => { p.type = e.target.value; save(); } },
        PARAMETER_TYPES.map((type) => h('option', { value: type, selected: type === p.type }, type))),
      h('input', { value: p.label, placeholder: t('bpmn:label'), 'aria-label': t('bpmn:parameter_label'), oninput: (e) => { p.label = e.target.value; save(); } }),
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', checked: p.required, onchange: (e) => { p.required = e.target.checked; save(); } }), t('bpmn:required_short')),
      h('button', { class: 'icon', title: t('bpmn:remove'), 'aria-label': t('bpmn:remove'), onclick: () => { settings.parameters.splice(i, 1); save(); drawParams(); } }, '×'))));
    const drawFields = () => clear(fields, settings.requiredFields.map((f, i) => h('div', { class: 'df-row' },
      h('input', { value: f.name, placeholder: t('bpmn:deal_field'), list: 'df-deal-fields', 'aria-label': t('bpmn:required_field'), oninput: (e) => { f.name = e.target.value; save(); } }),
      h('input', { value: f.label, placeholder: t('bpmn:label'), 'aria-label': t('bpmn:label'), oninput: (e) => { f.label = e.target.value; save(); } }),
      h('button', { class: 'icon', title: t('bpmn:remove'), 'aria-label': t('bpmn:remove'), onclick: () => { settings.requiredFields.splice(i, 1); save(); drawFields(); } }, '×'))));
    drawParams();
    drawFields();
    body.append(
      h('label', { class: 'df-field' }, t('bpmn:process_key'), h('input', {
        value: processBo.id, 'data-field': 'process-id',
        onchange: (e) => modeler.get('modeling').updateModdleProperties(root, processBo, { id: e.target.value.trim() }),
      })),
      h('label', { class: 'df-field' }, t('bpmn:process_name'), h('input', {
        value: processBo.get('name') || '', 'data-field': 'process-name',
        oninput: (e) => modeler.get('modeling').updateModdleProperties(root, processBo, { name: e.target.value }),
      })),
      h('h4', {}, t('bpmn:start_parameters')), params,
      h('button', { class: 'small', onclick: () => { settings.parameters.push({ name: '', type: 'string', label: '', required: true }); drawParams(); } }, t('bpmn:add_parameter')),
      h('h4', {}, t('bpmn:preconditions')), fields,
      h('button', { class: 'small', onclick: () => { settings.requiredFields.push({ name: '', label: '' }); drawFields(); } }, t('bpmn:add_required_field')),
      h('datalist', { id: 'df-deal-fields' }, allFields.map((f) => h('option', { value: f }))),
    );
  }

  // --- service task: action + parameter form ----------------------------------------------------
  async function renderServiceTask(body, task, bo) {
    const actions = await once('/actions');
    const vocab = await editorVocabulary();
    const state = readOperator(bo);
    const form = h('div', { class: 'df-params' });
    const byName = Object.fromEntries(actions.map((a) => [a.name, a]));
    const select = h('select', { 'data-field': 'action', 'aria-label': t('bpmn:action_label') },
      h('option', { value: '' }, t('bpmn:pick_action_option')),
      groupBy(actions, (a) => actionCategory(a.category)).map(([category, list]) => h('optgroup', { label: category },
        list.map((a) => h('option', { value: a.name, selected: a.name === state.action, title: a.name }, actionName(a))))));
    const description = h('p', { class: 'muted small' });
    const drawForm = () => {
      const action = byName[state.action];
      description.textContent = action ? actionDescription(action) : '';
      if (!action) {
        clear(form);
        return;
      }
      const names = [...(action.positional || []), ...Object.keys(action.parameters).filter((n) => !(action.positional || []).includes(n))];
      clear(form, names.map((name) => {
        const spec = action.parameters[name] || {};
        const template = takesTemplate(spec); // plain words with {deal.title} holes, stored as a dsl string
        return dslField({
          owner: task,
          label: `${name}${spec.required ? ' *' : ''} — ${spec.type || 'any'}${spec.description ? `: ${spec.description}` : ''}`,
          value: template ? templateOf(state.params[name]) : state.params[name],
          kind: template ? 'template' : 'expression', field: `param:${name}`, vocab,
          placeholder: template ? t('bpmn:template_placeholder') : t('bpmn:expression'),
          onChange: (value) => {
            // merged into what the model holds now, not into what this form was drawn from:
            // a redraw (undo, another edit) between two keystrokes must not drop a parameter
            const current = readOperator(task.businessObject);
            current.params[name] = template ? expressionOf(value) : value;
            state.params = current.params;
            writeOperator(modeler, task, state.action, current.params);
          },
        });
      }));
    };
    select.addEventListener('change', () => {
      for (const key of Object.keys(state.params)) problems.set(task.id, `param:${key}`, null);
      state.action = select.value;
      const action = byName[state.action];
      state.params = Object.fromEntries(Object.entries(state.params).filter(([k]) => action && k in action.parameters));
      writeOperator(modeler, task, state.action, state.params);
      drawForm();
    });
    drawForm();
    body.append(h('label', { class: 'df-field' }, t('bpmn:action'), select), description, form);
  }

  async function renderScript(body, task, bo) {
    const vocab = await editorVocabulary();
    body.append(dslField({
      owner: task, vocab,
      label: t('bpmn:script'), value: bo.get('script') || '', kind: 'script', field: 'script', multiline: true,
      onChange: (value) => modeler.get('modeling').updateProperties(task, { script: value, scriptFormat: 'dealflow' }),
    }));
  }

  // Drawn at once, in plain inputs: the task form below keeps rows not saved yet (a row just
  // added), which a redraw that waited for the vocabulary could lose.
  function renderUserTask(body, task, bo) {
    const values = readProperties(bo);
    for (const spec of USER_TASK_FIELDS) {
      body.append(dslField({
        owner: task, plain: true,
        label: t(spec.labelKey), value: values[spec.name], kind: spec.kind, field: `prop:${spec.name}`, multiline: spec.multiline,
        onChange: (value) => {
          const current = readProperties(task.businessObject); // as for action parameters, above
          current[spec.name] = value;
          writeProperties(modeler, task, current);
        },
      }));
    }
    renderTaskForm(body, task, bo);
  }

  /** The form completing the task asks for; its answers become process variables. */
  function renderTaskForm(body, task, bo) {
    const form = readFormFields(bo);
    const list = h('div', { class: 'df-list', 'data-field': 'task-form' });
    const save = () => writeFormFields(modeler, task, form);
    const draw = () => clear(list, form.map((f, i) => h('div', { class: 'df-row df-form-field', dataset: { index: i } },
      h('input', { value: f.name, placeholder: t('taskform:name'), 'aria-label': t('taskform:name'), name: 'form-field-name', oninput: (e) => { f.name = e.target.value.trim(); save(); } }),
      h('select', { 'aria-label': t('taskform:type'), name: 'form-field-type', onchange: (e) => { f.type = e.target.value; save(); draw(); } },
        FORM_FIELD_TYPES.map((type) => h('option', { value: type, selected: type === f.type }, t(`taskform:types.${type}`)))),
      h('input', { value: f.label, placeholder: t('taskform:label'), 'aria-label': t('taskform:label'), name: 'form-field-label', oninput: (e) => { f.label = e.target.value; save(); } }),
      f.type === 'enum' ? h('input', { value: f.options, placeholder: t('taskform:options'), 'aria-label': t('taskform:options'), name: 'form-field-options', oninput: (e) => { f.options = e.target.value; save(); } }) : null,
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', checked: f.required, onchange: (e) => { f.required = e.target.checked; save(); } }), t('taskform:required')),
      h('button', { class: 'icon', title: t('taskform:remove'), 'aria-label': t('taskform:remove'), onclick: () => { form.splice(i, 1); save(); draw(); } }, '×'))));
    draw();
    body.append(h('h4', {}, t('taskform:title')), list,
      h('button', { class: 'small', 'data-field': 'add-form-field', onclick: () => { form.push({ name: '', label: '', type: 'string', required: true, options: '' }); draw(); } }, `+ ${t('taskform:add')}`),
      h('p', { class: 'muted small' }, t('taskform:hint')));
  }

  async function renderFlow(body, flow, bo) {
    const source = bo.get('sourceRef');
    if (!source || !/Gateway$/.test(source.$type) || source.$type === 'bpmn:ParallelGateway') return;
    const isDefault = source.get('default') === bo;
    const vocab = await editorVocabulary();
    body.append(
      dslField({
        owner: flow, vocab,
        label: t('bpmn:condition'), value: conditionOf(bo), kind: 'expression', field: 'condition',
        placeholder: 'event.approved == true', onChange: (value) => writeCondition(modeler, flow, value),
      }),
      h('label', { class: 'inline' }, h('input', {
        type: 'checkbox', checked: isDefault, 'data-field': 'default-flow',
        onchange: (e) => modeler.get('modeling').updateProperties(flow.source, { default: e.target.checked ? bo : undefined }),
      }), ` ${t('bpmn:default_flow')}`),
    );
  }

  // --- events: timers and CRM messages ----------------------------------------------------------
  async function renderEvent(body, event, bo) {
    const timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
    if (timer) await renderTimer(body, event, timer);
    const message = eventDefinition(bo, 'bpmn:MessageEventDefinition');
    if (message) await renderMessage(body, event, message);
  }

  async function renderTimer(body, event, timer) {
    const vocab = await editorVocabulary();
    const dateFields = [...new Set(Object.values(vocab.fields || {}).flatMap((f) =>
      Object.entries(f).filter(([, type]) => type === 'date' || type === 'datetime').map(([n]) => n)))].sort();
    const state = readTimer(timer);
    const kind = h('select', { 'data-field': 'timer-kind', 'aria-label': t('bpmn:timer_kind') },
      Object.keys(TIMER_KINDS).map((k) => h('option', { value: k, selected: k === state.kind }, t(`bpmn:timer.${k}`))));
    const fromField = h('select', { 'aria-label': t('bpmn:date_from_field') },
      h('option', { value: '' }, t('bpmn:pick_date_field')),
      dateFields.map((f) => h('option', { value: `deal.${f}`, selected: state.text === `deal.${f}` }, f)));
    const holder = h('div');
    const draw = () => {
      const field = dslField({
        owner: event,
        label: state.kind === 'timeDuration' ? t('bpmn:timer_duration') : state.kind === 'timeDate'
          ? t('bpmn:timer_date') : t('bpmn:timer_cycle'),
        value: state.text, kind: 'expression', field: 'timer', vocab,
        onChange: (value) => { state.text = value; writeTimer(modeler, event, timer, state.kind, value); },
      });
      clear(holder, field, state.kind === 'timeDate' ? h('label', { class: 'df-field' }, t('bpmn:or_pick_field'), fromField) : null);
    };
    kind.addEventListener('change', () => { state.kind = kind.value; writeTimer(modeler, event, timer, state.kind, state.text); draw(); });
    fromField.addEventListener('change', () => {
      if (!fromField.value) return;
      state.text = fromField.value;
      writeTimer(modeler, event, timer, state.kind, state.text);
      draw();
    });
    draw();
    body.append(h('h4', {}, t('bpmn:timer_title')), h('label', { class: 'df-field' }, t('bpmn:when'), kind), holder);
  }

  async function renderMessage(body, event, definition) {
    const vocab = await vocabulary();
    const current = definition.get('messageRef')?.get('name') || '';
    const known = Object.keys(vocab.events || {}).sort();
    const input = h('input', { list: 'df-crm-events', value: current, 'data-field': 'message', placeholder: 'bank.decision' });
    input.addEventListener('change', () => {
      const name = input.value.trim();
      if (!name) return;
      modeler.get('modeling').updateModdleProperties(event, definition, { messageRef: messageNamed(modeler, name) });
    });
    body.append(h('h4', {}, t('bpmn:crm_event')), h('label', { class: 'df-field' }, t('bpmn:waits_for_event'), input),
      h('datalist', { id: 'df-crm-events' }, known.map((e) => h('option', { value: e }))),
      h('p', { class: 'muted small' }, t('bpmn:event_hint')));
  }

  const rerender = debounce(render, 30);
  modeler.on('selection.changed', rerender);
  modeler.on('import.done', rerender);
  // What the person does in this panel it draws itself; any other move of the command stack
  // (undo, redo, an edit on the diagram) redraws it from the model, so it never shows stale values.
  for (const type of ['input', 'change', 'click']) el.addEventListener(type, mine, true);
  modeler.on('commandStack.changed', () => { if (!ownEdit) rerender(); });
  return {
    el, render,
    destroy: () => {
      destroyed = true;
      for (const editor of editors) editor.destroy();
      editors = [];
    },
  };
}

/** null when the text is valid, else the server's message with its place. */
export async function checkText(kind, text) {
  if (!text || !text.trim()) return null;
  try {
    const result = await api.post('/dsl/check', { kind, text });
    if (result.valid) return null;
    const [first] = result.errors;
    return first.line ? `${first.message} (line ${first.line}, column ${first.column})` : first.message;
  } catch (err) {
    return null; // the check is a convenience; deploy checks again
  }
}

export function vocabulary() {
  return once('/dsl/vocabulary').catch(() => ({ stages: {}, fields: {}, events: {}, actions: [] }));
}

/** The vocabulary the panel's editors complete from: its actions as the action catalog gives them (name, parameters). */
async function editorVocabulary() {
  const [words, actions] = await Promise.all([vocabulary(), once('/actions').catch(() => [])]);
  return { ...words, actions };
}

function groupBy(list, key) {
  const groups = new Map();
  for (const item of list) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(item);
  }
  return [...groups.entries()];
}
