/**
 * A user task: its title and description as templates (plain words with `{deal.x}` holes),
 * the assignee and the deadline as expressions, each a DSL entry with completion and the field
 * picker; the group as a text field; and the form the person completing the task fills in.
 *
 * Every row of the form is drawn from the model on each redraw and each change is a command,
 * so a row just added is in the model at once (a redraw cannot drop it) and undo takes it back.
 */
import { TextFieldEntry } from '@bpmn-io/properties-panel';
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { useService } from 'bpmn-js-properties-panel';
import { t } from '../../i18n.js';
import { readProperties, writeProperties, readFormFields, writeFormFields } from '../model.js';
import { DslEntry } from './dsl.js';

/** What a user task's form may ask for (engine/bpmn.py FORM_FIELD_TYPES). */
export const FORM_FIELD_TYPES = ['string', 'text', 'number', 'money', 'date', 'datetime', 'bool', 'enum', 'user'];

export const USER_TASK_TEXTS = [
  { name: 'title', kind: 'template', labelKey: 'bpmn:task_title', placeholderKey: 'bpmn:template_placeholder' },
  { name: 'description', kind: 'template', labelKey: 'bpmn:description', multiline: true },
  { name: 'assignee', kind: 'expression', labelKey: 'bpmn:assignee', placeholderKey: 'bpmn:assignee_placeholder' },
  { name: 'deadline', kind: 'expression', labelKey: 'bpmn:deadline', placeholderKey: 'bpmn:deadline_placeholder' },
];

/** The user task's properties with `name` set to `value`, merged into what the model holds now. */
function writeProperty(modeler, element, name, value) {
  const current = readProperties(element.businessObject);
  current[name] = value || '';
  writeProperties(modeler, element, current);
}

function PropertyEntry(props) {
  const { spec } = props;
  const modeler = useService('bpmnjs');
  return preact(DslEntry, {
    ...props,
    label: t(spec.labelKey), kind: spec.kind, field: `prop:${spec.name}`, multiline: spec.multiline,
    placeholder: spec.placeholderKey ? t(spec.placeholderKey) : '',
    getValue: (el) => readProperties(el.businessObject)[spec.name] || '',
    setValue: (el, text) => writeProperty(modeler, el, spec.name, text),
  });
}

function GroupEntry(props) {
  const { element, id } = props;
  const modeler = useService('bpmnjs');
  const debounce = useService('debounceInput');
  return preact(TextFieldEntry, {
    element, id, label: t('bpmn:group'), debounce,
    getValue: (el) => readProperties(el.businessObject).group || '',
    setValue: (value) => writeProperty(modeler, element, 'group', value),
  });
}

/** The form completing the task asks for; its answers become process variables. */
export function FormFieldsEntry({ element, id }) {
  const modeler = useService('bpmnjs');
  const fields = readFormFields(element.businessObject);
  const save = (change) => {
    const next = readFormFields(element.businessObject); // what the model holds now, not what was drawn
    change(next);
    writeFormFields(modeler, element, next);
  };
  const set = (i, key, value) => save((list) => { if (list[i]) list[i][key] = value; });
  const rows = fields.map((f, i) => preact('div', { class: 'df-row df-form-field', 'data-index': i, key: i },
    preact('input', { value: f.name, placeholder: t('taskform:name'), 'aria-label': t('taskform:name'), name: 'form-field-name',
      onInput: (e) => set(i, 'name', e.target.value.trim()) }),
    preact('select', { 'aria-label': t('taskform:type'), name: 'form-field-type', value: f.type,
      onChange: (e) => set(i, 'type', e.target.value) },
    FORM_FIELD_TYPES.map((type) => preact('option', { value: type }, t(`taskform:types.${type}`)))),
    preact('input', { value: f.label, placeholder: t('taskform:label'), 'aria-label': t('taskform:label'), name: 'form-field-label',
      onInput: (e) => set(i, 'label', e.target.value) }),
    f.type === 'enum' ? preact('input', { value: f.options, placeholder: t('taskform:options'), 'aria-label': t('taskform:options'),
      name: 'form-field-options', onInput: (e) => set(i, 'options', e.target.value) }) : null,
    preact('label', { class: 'inline' }, preact('input', { type: 'checkbox', checked: f.required,
      onChange: (e) => set(i, 'required', e.target.checked) }), t('taskform:required')),
    preact('button', { type: 'button', class: 'icon', title: t('taskform:remove'), 'aria-label': t('taskform:remove'),
      onClick: () => save((list) => list.splice(i, 1)) }, '×')));
  return preact('div', { class: 'bio-properties-panel-entry df-field', 'data-entry-id': id },
    preact('h4', {}, t('taskform:title')),
    preact('div', { class: 'df-list', 'data-field': 'task-form' }, rows),
    preact('button', { type: 'button', class: 'small', 'data-field': 'add-form-field',
      onClick: () => save((list) => list.push({ name: '', label: '', type: 'string', required: true, options: '' })) },
    `+ ${t('taskform:add')}`),
    preact('p', { class: 'muted small' }, t('taskform:hint')));
}

export function userTaskEntries() {
  return [
    ...USER_TASK_TEXTS.slice(0, 3).map((spec) => ({ id: `df-prop-${spec.name}`, component: PropertyEntry, spec })),
    { id: 'df-prop-group', component: GroupEntry },
    { id: `df-prop-${USER_TASK_TEXTS[3].name}`, component: PropertyEntry, spec: USER_TASK_TEXTS[3] },
    { id: 'df-task-form', component: FormFieldsEntry },
  ];
}
