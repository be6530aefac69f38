/**
 * A sequence flow out of an exclusive or inclusive gateway: its condition (a DSL expression)
 * and whether it is the gateway's default flow. A script task's script is here too: both are
 * a DSL text on the element itself.
 */
import { CheckboxEntry } from '@bpmn-io/properties-panel';
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { useService } from 'bpmn-js-properties-panel';
import { t } from '../../i18n.js';
import { conditionOf, writeCondition } from '../model.js';
import { DslEntry } from './dsl.js';

/** Whether the flow leaves a gateway that chooses by conditions. */
export function takesCondition(bo) {
  const source = bo.get('sourceRef');
  return Boolean(source) && /Gateway$/.test(source.$type) && source.$type !== 'bpmn:ParallelGateway';
}

function ConditionEntry(props) {
  const modeler = useService('bpmnjs');
  return preact(DslEntry, {
    ...props, label: t('bpmn:condition'), kind: 'expression', field: 'condition', placeholder: 'event.approved == true',
    getValue: (el) => conditionOf(el.businessObject),
    setValue: (el, text) => writeCondition(modeler, el, text),
  });
}

function DefaultFlowEntry({ element, id }) {
  const modeling = useService('modeling');
  return preact(CheckboxEntry, {
    element, id, label: t('bpmn:default_flow'),
    getValue: (el) => el.businessObject.get('sourceRef')?.get('default') === el.businessObject,
    setValue: (checked) => modeling.updateProperties(element.source, { default: checked ? element.businessObject : undefined }),
  });
}

function ScriptEntry(props) {
  const modeling = useService('modeling');
  return preact(DslEntry, {
    ...props, label: t('bpmn:script'), kind: 'script', field: 'script', multiline: true,
    getValue: (el) => el.businessObject.get('script') || '',
    setValue: (el, text) => modeling.updateProperties(el, { script: text, scriptFormat: 'dealflow' }),
  });
}

export function flowEntries(element) {
  if (!takesCondition(element.businessObject)) return [];
  return [{ id: 'df-condition', component: ConditionEntry }, { id: 'df-default-flow', component: DefaultFlowEntry }];
}

export function scriptEntries() {
  return [{ id: 'df-script', component: ScriptEntry }];
}
