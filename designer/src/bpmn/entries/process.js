/**
 * The process (or the collaboration's one executable pool): its key and name, the parameters a
 * start asks for, and the deal fields that must be filled before it starts. The lists are drawn
 * from the model on each redraw and every change is a command, so undo and redo show in them.
 */
import { TextFieldEntry } from '@bpmn-io/properties-panel';
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { useService } from 'bpmn-js-properties-panel';
import { t } from '../../i18n.js';
import { readProcessSettings, writeProcessSettings } from '../model.js';

export const PARAMETER_TYPES = ['string', 'number', 'money', 'date', 'datetime', 'bool', 'duration'];

/** The process a root element stands for: itself, or the first pool's of a collaboration. */
export function processOf(element) {
  const bo = element.businessObject;
  return bo.$type === 'bpmn:Process' ? bo : bo.get('participants')?.[0]?.get('processRef') || null;
}

function KeyEntry({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return preact(TextFieldEntry, {
    element, id, label: t('bpmn:process_key'), debounce,
    getValue: () => processOf(element).id,
    setValue: (value) => {
      const key = (value || '').trim();
      if (key && key !== processOf(element).id) modeling.updateModdleProperties(element, processOf(element), { id: key });
    },
    validate: (value) => (value && value.trim() ? null : t('bpmn:key_required')),
  });
}

function NameEntry({ element, id }) {
  const modeling = useService('modeling');
  const debounce = useService('debounceInput');
  return preact(TextFieldEntry, {
    element, id, label: t('bpmn:process_name'), debounce,
    getValue: () => processOf(element).get('name') || '',
    setValue: (value) => modeling.updateModdleProperties(element, processOf(element), { name: value || undefined }),
  });
}

/** Changes the process's settings as the model holds them now, in one command. */
function useSettings(element) {
  const modeler = useService('bpmnjs');
  const processBo = processOf(element);
  const settings = readProcessSettings(processBo);
  const save = (change) => {
    const next = readProcessSettings(processOf(element));
    change(next);
    writeProcessSettings(modeler, element, processOf(element), next);
  };
  return [settings, save];
}

const remove = (onClick) => preact('button', { type: 'button', class: 'icon', title: t('bpmn:remove'), 'aria-label': t('bpmn:remove'), onClick }, '×');

export function ParametersEntry({ element, id }) {
  const [settings, save] = useSettings(element);
  const set = (i, key, value) => save((s) => { if (s.parameters[i]) s.parameters[i][key] = value; });
  return preact('div', { class: 'bio-properties-panel-entry df-field', 'data-entry-id': id },
    preact('h4', {}, t('bpmn:start_parameters')),
    preact('div', { class: 'df-list', 'data-field': 'start-parameters' }, settings.parameters.map((p, i) => preact('div', { class: 'df-row df-parameter', key: i },
      preact('input', { value: p.name, placeholder: t('bpmn:name'), 'aria-label': t('bpmn:parameter_name'), name: 'parameter-name',
        onInput: (e) => set(i, 'name', e.target.value) }),
      preact('select', { 'aria-label': t('bpmn:parameter_type'), name: 'parameter-type', value: p.type, onChange: (e) => set(i, 'type', e.target.value) },
        PARAMETER_TYPES.map((type) => preact('option', { value: type }, t(`bpmn:types.${type}`)))),
      preact('input', { value: p.label, placeholder: t('bpmn:label'), 'aria-label': t('bpmn:parameter_label'), name: 'parameter-label',
        onInput: (e) => set(i, 'label', e.target.value) }),
      preact('label', { class: 'inline' }, preact('input', { type: 'checkbox', checked: p.required, onChange: (e) => set(i, 'required', e.target.checked) }),
        t('bpmn:required_short')),
      remove(() => save((s) => s.parameters.splice(i, 1)))))),
    preact('button', { type: 'button', class: 'small', 'data-field': 'add-parameter',
      onClick: () => save((s) => s.parameters.push({ name: '', type: 'string', label: '', required: true })) }, t('bpmn:add_parameter')));
}

export function RequiredFieldsEntry({ element, id }) {
  const [settings, save] = useSettings(element);
  const context = useService('dealflowContext');
  const known = [...new Set(Object.values(context.vocabulary.fields || {}).flatMap((f) => Object.keys(f)))].sort();
  const set = (i, key, value) => save((s) => { if (s.requiredFields[i]) s.requiredFields[i][key] = value; });
  return preact('div', { class: 'bio-properties-panel-entry df-field', 'data-entry-id': id },
    preact('h4', {}, t('bpmn:preconditions')),
    preact('div', { class: 'df-list', 'data-field': 'required-fields' }, settings.requiredFields.map((f, i) => preact('div', { class: 'df-row', key: i },
      preact('input', { value: f.name, placeholder: t('bpmn:deal_field'), list: 'df-deal-fields', 'aria-label': t('bpmn:required_field'),
        name: 'required-field-name', onInput: (e) => set(i, 'name', e.target.value) }),
      preact('input', { value: f.label, placeholder: t('bpmn:label'), 'aria-label': t('bpmn:label'), name: 'required-field-label',
        onInput: (e) => set(i, 'label', e.target.value) }),
      remove(() => save((s) => s.requiredFields.splice(i, 1)))))),
    preact('button', { type: 'button', class: 'small', 'data-field': 'add-required-field',
      onClick: () => save((s) => s.requiredFields.push({ name: '', label: '' })) }, t('bpmn:add_required_field')),
    preact('datalist', { id: 'df-deal-fields' }, known.map((f) => preact('option', { value: f }))));
}

export function processEntries(element) {
  if (!processOf(element)) return [];
  return [
    { id: 'df-process-id', component: KeyEntry },
    { id: 'df-process-name', component: NameEntry },
    { id: 'df-start-parameters', component: ParametersEntry },
    { id: 'df-required-fields', component: RequiredFieldsEntry },
  ];
}
