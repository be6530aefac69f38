/**
 * The dealflow section as a provider of the bpmn-js properties panel: one column edits an
 * element, the dealflow group first (action and parameters, DSL texts, timers, CRM events,
 * start parameters), then the generic BPMN groups, minus those the dealflow group already
 * edits in its own terms (the timer, the message, the process's key and name).
 *
 * A diagram-js module with `$inject`, as bpmn-js-properties-panel's own providers are; the
 * dealflow group's content is the panel of panel.js, which writes through `modeling` (so
 * undo and redo cover every dealflow property) and redraws when the command stack moves
 * under it (undo, redo, an edit on the diagram).
 */
import { Group } from '@bpmn-io/properties-panel';
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { useLayoutEffect, useRef } from '@bpmn-io/properties-panel/preact/hooks';
import { t } from '../i18n.js';

const PRIORITY = 400; // after the BPMN provider (1000 is the default): it sees the generic groups
/** Generic groups the dealflow group edits itself; keys are element types or '*' for any. */
const REPLACED = { '*': ['timer', 'message'], 'bpmn:Process': ['general'], 'bpmn:Collaboration': ['general'] };

/** Hosts the dealflow panel's DOM (one for the modeler, moved into the group when it is drawn). */
function DealflowEntry({ host }) {
  const ref = useRef(null);
  useLayoutEffect(() => {
    if (ref.current && host.el.parentNode !== ref.current) ref.current.append(host.el);
  });
  return preact('div', { class: 'df-entry', ref });
}

export class DealflowPropertiesProvider {
  constructor(propertiesPanel, dealflowPanelHost) {
    this._host = dealflowPanelHost;
    propertiesPanel.registerProvider(PRIORITY, this);
  }

  getGroups(element) {
    return (groups) => {
      const type = element.businessObject && element.businessObject.$type;
      const replaced = [...REPLACED['*'], ...(REPLACED[type] || [])];
      const dealflow = {
        id: 'dealflow', label: t('bpmn:panel_label'), component: Group, shouldOpen: true,
        entries: [{ id: 'dealflow-settings', component: DealflowEntry, host: this._host }],
      };
      return [dealflow, ...groups.filter((g) => !replaced.includes(g.id))];
    };
  }
}
DealflowPropertiesProvider.$inject = ['propertiesPanel', 'dealflowPanelHost'];

/** Where the view puts the panel it made (`host.el`), before the provider draws it. */
class DealflowPanelHost {
  constructor() {
    this.el = document.createElement('div');
  }
}

export const DealflowPropertiesProviderModule = {
  __init__: ['dealflowPropertiesProvider'],
  dealflowPanelHost: ['type', DealflowPanelHost],
  dealflowPropertiesProvider: ['type', DealflowPropertiesProvider],
};
