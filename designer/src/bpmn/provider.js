/**
 * The dealflow group of the bpmn-js properties panel: one column edits an element, the dealflow
 * group first (action and parameters, DSL texts, timers, CRM events, start parameters), then
 * the generic BPMN groups, minus those the dealflow group already edits in its own terms (the
 * timer, the message, the process's key and name).
 *
 * A diagram-js module with `$inject`, as bpmn-js-properties-panel's own providers are. Its
 * entries (entries/*.js, one module per kind of element) are properties-panel components that
 * read the model on each redraw and write through `modeling`, so the command stack covers every
 * dealflow property and undo or redo never leaves a stale value on screen.
 */
import { Group } from '@bpmn-io/properties-panel';
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { t } from '../i18n.js';
import { processEntries } from './entries/process.js';
import { serviceTaskEntries } from './entries/servicetask.js';
import { userTaskEntries } from './entries/usertask.js';
import { flowEntries, scriptEntries } from './entries/flow.js';
import { eventEntries } from './entries/event.js';

const PRIORITY = 400; // after the BPMN provider (1000 is the default): it sees the generic groups
/** Generic groups the dealflow group edits itself; keys are element types or '*' for any. */
const REPLACED = { '*': ['timer', 'message'], 'bpmn:Process': ['general'], 'bpmn:Collaboration': ['general'] };

function NothingHere({ id }) {
  return preact('p', { class: 'bio-properties-panel-description df-nothing', 'data-entry-id': id }, t('bpmn:nothing_here'));
}

/** The dealflow entries of an element, for what the context knows (the action catalog). */
export function dealflowEntries(element, context) {
  const bo = element.businessObject;
  const type = bo && bo.$type;
  const entries = [];
  if (type === 'bpmn:Process' || type === 'bpmn:Collaboration') entries.push(...processEntries(element));
  else if (type === 'bpmn:ServiceTask') entries.push(...serviceTaskEntries(element, context));
  else if (type === 'bpmn:ScriptTask') entries.push(...scriptEntries(element));
  else if (type === 'bpmn:UserTask') entries.push(...userTaskEntries(element));
  else if (type === 'bpmn:SequenceFlow') entries.push(...flowEntries(element));
  if (bo && bo.get && bo.get('eventDefinitions')) entries.push(...eventEntries(element));
  return entries.length ? entries : [{ id: 'df-nothing', component: NothingHere }];
}

export class DealflowPropertiesProvider {
  constructor(propertiesPanel, dealflowContext) {
    this._context = dealflowContext;
    propertiesPanel.registerProvider(PRIORITY, this);
  }

  getGroups(element) {
    return (groups) => {
      const type = element.businessObject && element.businessObject.$type;
      const replaced = [...REPLACED['*'], ...(REPLACED[type] || [])];
      const dealflow = {
        id: 'dealflow', label: t('bpmn:panel_label'), component: Group, shouldOpen: true,
        entries: dealflowEntries(element, this._context),
      };
      return [dealflow, ...groups.filter((g) => !replaced.includes(g.id))];
    };
  }
}
DealflowPropertiesProvider.$inject = ['propertiesPanel', 'dealflowContext'];

/**
 * What the entries need from the page: the vocabulary the editors complete from, the action
 * catalog, and where problems are shown. The view fills it before it opens a diagram.
 */
export class DealflowContext {
  constructor(eventBus, commandStack) {
    this.vocabulary = { stages: {}, fields: {}, events: {}, actions: [] };
    this.actions = [];
    this.problems = null;
    this._held = new Set();
    // Text still being typed is written before the command stack moves or the selection
    // changes, so undo takes back what was typed and not the edit before it.
    for (const name of ['undo', 'redo']) {
      const move = commandStack[name].bind(commandStack);
      commandStack[name] = (...args) => {
        this.flushWrites();
        return move(...args);
      };
    }
    eventBus.on('selection.changed', 2000, () => this.flushWrites());
  }

  holdWrite(writer) { this._held.add(writer); }

  releaseWrite(writer) { this._held.delete(writer); }

  /** Makes every held write (but `except`'s) now: before a save, a check, a deploy. */
  flushWrites(except) {
    for (const writer of [...this._held]) if (writer !== except) writer.flush();
  }
}
DealflowContext.$inject = ['eventBus', 'commandStack'];

export const DealflowPropertiesProviderModule = {
  __init__: ['dealflowPropertiesProvider'],
  dealflowContext: ['type', DealflowContext],
  dealflowPropertiesProvider: ['type', DealflowPropertiesProvider],
};
