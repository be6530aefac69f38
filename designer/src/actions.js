/**
 * Actions as people read them: the catalog's name, description and category in the person's
 * language (locales/<lang>/actions.json), for the robots board and the BPMN panel alike, so an
 * action reads the same in both. The server's catalog (GET /actions) knows only English and
 * codes; a custom action, which no catalog knows, is shown by its code in words and the
 * server's own description.
 */
import { t } from './i18n.js';

function inWords(code) {
  const words = String(code || '').replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The action's name for people ("Create a task" for create_task). */
export function actionName(action) {
  return t(`actions:name.${action.name}`, { defaultValue: inWords(action.name) });
}

/** What the action does, in the person's language when the catalog has it, else as the server says. */
export function actionDescription(action) {
  return t(`actions:description.${action.name}`, { defaultValue: action.description || '' });
}

/** A category of actions ("deal", "tasks") as a heading. */
export function actionCategory(category) {
  const key = category || 'other';
  return t(`actions:category.${key}`, { defaultValue: inWords(key) });
}

/**
 * A parameter's label in the person's language: the catalog's for this action
 * (actions:parameter.<action>.<name>.label), else the parameter's code in words, as a custom
 * action's parameter reads.
 */
export function parameterLabel(action, name) {
  return t(`actions:parameter.${action.name}.${name}.label`, { defaultValue: inWords(name) });
}

/** What the parameter wants, in the person's language, else as the server describes it. */
export function parameterHint(action, name) {
  const spec = (action.parameters && action.parameters[name]) || {};
  return t(`actions:parameter.${action.name}.${name}.hint`, { defaultValue: spec.description || '' });
}
