/**
 * Events: a timer (its kind, and its value as a DSL expression, or a date field of the deal
 * for a timer at a date) and the CRM event a message event waits for.
 */
import { SelectEntry } from '@bpmn-io/properties-panel';
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { useService } from 'bpmn-js-properties-panel';
import { t } from '../../i18n.js';
import { eventDefinition, TIMER_KINDS, readTimer, writeTimer, messageNamed } from '../model.js';
import { DslEntry } from './dsl.js';
import { fieldLabel } from '../../actionform.js';

const timerOf = (element) => eventDefinition(element.businessObject, 'bpmn:TimerEventDefinition');

/** The deal's date and datetime fields of every pipeline, by code. */
export function dateFields(vocab) {
  return [...new Set(Object.values((vocab && vocab.fields) || {}).flatMap((fields) =>
    Object.entries(fields).filter(([, type]) => type === 'date' || type === 'datetime').map(([name]) => name)))].sort();
}

/**
 * A date field's name for people, as the robots board names it (a pipeline's own label where the
 * vocabulary has one, else the catalog's, else the code in words): the timer's field select
 * showed the bare code `signed_at`, in every language.
 */
export function dateFieldLabel(vocab, code) {
  const scope = Object.keys((vocab && vocab.fields) || {}).find((name) => vocab.labels?.[name]?.[code]);
  return fieldLabel(code, vocab, scope);
}

function TimerKindEntry({ element, id }) {
  const modeler = useService('bpmnjs');
  return preact(SelectEntry, {
    element, id, label: t('bpmn:when'),
    getOptions: () => Object.keys(TIMER_KINDS).map((kind) => ({ value: kind, label: t(`bpmn:timer.${kind}`) })),
    getValue: (el) => readTimer(timerOf(el)).kind,
    setValue: (kind) => writeTimer(modeler, element, timerOf(element), kind, readTimer(timerOf(element)).text),
  });
}

function TimerEntry(props) {
  const modeler = useService('bpmnjs');
  const { kind } = readTimer(timerOf(props.element));
  return preact(DslEntry, {
    ...props, kind: 'expression', field: 'timer',
    label: kind === 'timeDuration' ? t('bpmn:timer_duration') : kind === 'timeDate' ? t('bpmn:timer_date') : t('bpmn:timer_cycle'),
    getValue: (el) => readTimer(timerOf(el)).text,
    setValue: (el, text) => writeTimer(modeler, el, timerOf(el), readTimer(timerOf(el)).kind, text),
  });
}

function TimerFieldEntry({ element, id }) {
  const modeler = useService('bpmnjs');
  const context = useService('dealflowContext');
  return preact(SelectEntry, {
    element, id, label: t('bpmn:or_pick_field'),
    getOptions: () => [{ value: '', label: t('bpmn:pick_date_field') },
      ...dateFields(context.vocabulary).map((f) => ({ value: `deal.${f}`, label: dateFieldLabel(context.vocabulary, f) }))],
    getValue: (el) => {
      const { text } = readTimer(timerOf(el));
      return dateFields(context.vocabulary).some((f) => `deal.${f}` === text) ? text : '';
    },
    setValue: (value) => { if (value) writeTimer(modeler, element, timerOf(element), 'timeDate', value); },
  });
}

/**
 * The CRM event a message event waits for, with the known events offered. It is taken when the
 * input is left (not at each keystroke), since naming an event creates its message.
 */
function MessageEntry({ element, id }) {
  const modeler = useService('bpmnjs');
  const context = useService('dealflowContext');
  const definition = eventDefinition(element.businessObject, 'bpmn:MessageEventDefinition');
  const current = definition.get('messageRef')?.get('name') || '';
  const known = Object.keys(context.vocabulary.events || {}).sort();
  return preact('div', { class: 'bio-properties-panel-entry df-field', 'data-entry-id': id },
    preact('h4', {}, t('bpmn:crm_event')),
    preact('label', { class: 'bio-properties-panel-label', for: 'df-message' }, t('bpmn:waits_for_event')),
    preact('input', {
      id: 'df-message', class: 'bio-properties-panel-input', list: 'df-crm-events', value: current, 'data-field': 'message',
      placeholder: 'bank.decision', spellcheck: false,
      onChange: (e) => {
        const name = e.target.value.trim();
        if (name && name !== current) {
          modeler.get('modeling').updateModdleProperties(element, definition, { messageRef: messageNamed(modeler, name) });
        }
      },
    }),
    preact('datalist', { id: 'df-crm-events' }, known.map((name) => preact('option', { value: name }))),
    preact('div', { class: 'bio-properties-panel-description' }, t('bpmn:event_hint')));
}

export function eventEntries(element) {
  const entries = [];
  const timer = timerOf(element);
  if (timer) {
    entries.push({ id: 'df-timer-kind', component: TimerKindEntry }, { id: 'df-timer', component: TimerEntry });
    if (readTimer(timer).kind === 'timeDate') entries.push({ id: 'df-timer-field', component: TimerFieldEntry });
  }
  if (eventDefinition(element.businessObject, 'bpmn:MessageEventDefinition')) entries.push({ id: 'df-message', component: MessageEntry });
  return entries;
}
