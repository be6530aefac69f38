/**
 * A service task's action and the form built from its parameter schema (GET /actions): the
 * action is a select of the catalog by category, each parameter a DSL entry labelled in the
 * person's language (actions.js). A text parameter is a template (plain words with `{deal.x}`
 * holes), stored as the dsl string literal the engine evaluates (texts.js).
 */
import { SelectEntry } from '@bpmn-io/properties-panel';
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { useService } from 'bpmn-js-properties-panel';
import { t } from '../../i18n.js';
import { readOperator, writeOperator } from '../model.js';
import { takesTemplate, templateOf, expressionOf } from '../texts.js';
import { actionName, actionDescription, actionCategory, parameterLabel, parameterHint } from '../../actions.js';
import { DslEntry } from './dsl.js';

/** The catalog as the select's options: a first empty choice, then the actions by category. */
export function actionOptions(actions) {
  const groups = new Map();
  for (const action of actions) {
    const category = actionCategory(action.category);
    if (!groups.has(category)) groups.set(category, []);
    groups.get(category).push({ value: action.name, label: actionName(action) });
  }
  return [{ value: '', label: t('bpmn:pick_action_option') },
    ...[...groups.entries()].map(([label, children]) => ({ label, children }))];
}

/** The parameters in the order a person fills them: positional ones first, as the dsl writes them. */
export function parameterNames(action) {
  const positional = action.positional || [];
  return [...positional, ...Object.keys(action.parameters || {}).filter((n) => !positional.includes(n))];
}

function ActionEntry(props) {
  const { element, id, actions } = props;
  const modeler = useService('bpmnjs');
  const byName = Object.fromEntries(actions.map((a) => [a.name, a]));
  return preact(SelectEntry, {
    element, id, label: t('bpmn:action'),
    getOptions: () => actionOptions(actions),
    getValue: (el) => readOperator(el.businessObject).action,
    setValue: (value) => {
      const action = byName[value];
      const { params } = readOperator(element.businessObject);
      const kept = Object.fromEntries(Object.entries(params).filter(([k]) => action && k in action.parameters));
      writeOperator(modeler, element, value || '', kept);
    },
  });
}

function ActionDescription({ id, action }) {
  return preact('div', { class: 'bio-properties-panel-entry', 'data-entry-id': id },
    preact('p', { class: 'bio-properties-panel-description df-action-description' }, actionDescription(action)));
}

function ParameterEntry(props) {
  const { action, name } = props;
  const modeler = useService('bpmnjs');
  const spec = action.parameters[name] || {};
  const template = takesTemplate(spec);
  return preact(DslEntry, {
    ...props,
    label: `${parameterLabel(action, name)}${spec.required ? ' *' : ''}`,
    hint: parameterHint(action, name),
    kind: template ? 'template' : 'expression',
    field: `param:${name}`,
    placeholder: template ? t('bpmn:template_placeholder') : t('bpmn:expression'),
    getValue: (el) => {
      const value = readOperator(el.businessObject).params[name] || '';
      return template ? templateOf(value) : value;
    },
    setValue: (el, text) => {
      // merged into what the model holds now: another parameter's edit is never undone by this one
      const current = readOperator(el.businessObject);
      current.params[name] = template ? expressionOf(text) : text;
      writeOperator(modeler, el, current.action, current.params);
    },
  });
}

/** The entries of a service task, for the actions of the catalog. */
export function serviceTaskEntries(element, { actions }) {
  const { action: name } = readOperator(element.businessObject);
  const action = actions.find((a) => a.name === name);
  const entries = [{ id: 'df-action', component: ActionEntry, actions }];
  if (!action) return entries;
  entries.push({ id: 'df-action-description', component: ActionDescription, action });
  for (const param of parameterNames(action)) {
    entries.push({ id: `df-param-${param}`, component: ParameterEntry, action, name: param });
  }
  return entries;
}
