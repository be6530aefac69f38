// The dealflow properties provider: its group comes first and holds the entries of the selected
// element's kind, and the generic groups it edits in its own terms are left out, so an element
// has one editor for each of its settings. Elements are the shipped Send to bank's.
import { readFileSync } from 'node:fs';
import { describe, it, expect, vi, beforeAll } from 'vitest';

vi.mock('bpmn-js-properties-panel', () => ({ useService: () => null })); // its bundle needs bpmn-js's browser build
vi.mock('../src/api.js', () => ({ api: {}, once: async () => [] })); // reads the session at import; nothing here calls the server
vi.mock('../src/i18n.js', () => ({ t: (key) => key })); // the catalogs need a browser document

const { DealflowPropertiesProvider, DealflowPropertiesProviderModule, DealflowContext, dealflowEntries } =
  await import('../src/bpmn/provider.js');
const { parse } = await import('../src/bpmn/compare.js');

const catalog = [
  { name: 'create_task', category: 'tasks', positional: ['title'], parameters: { title: { type: 'text' }, to: { type: 'user' }, due: { type: 'duration' }, description: { type: 'text' } } },
  { name: 'move_to', category: 'deal', positional: ['stage'], parameters: { stage: { type: 'stage' }, loss_reason: { type: 'text' } } },
  { name: 'set_field', category: 'deal', parameters: { field: { type: 'text' }, value: { type: 'any' } } },
  { name: 'change_pipeline', category: 'deal', parameters: { pipeline: { type: 'text' }, stage: { type: 'stage' } } },
  { name: 'notify_supervisor', category: 'notifications', parameters: { text: { type: 'text' }, of: { type: 'user' } } },
];

let byId;
let process;
beforeAll(async () => {
  const definitions = await parse(readFileSync(new URL('../../bpmn/send_to_bank.bpmn', import.meta.url), 'utf8'));
  process = definitions.get('rootElements').find((r) => r.$type === 'bpmn:Process');
  byId = Object.fromEntries(process.get('flowElements').map((e) => [e.id, e]));
});

function provider() {
  const registered = [];
  const panel = { registerProvider: (priority, p) => registered.push([priority, p]) };
  const p = new DealflowPropertiesProvider(panel, { actions: catalog });
  return { p, registered };
}

const element = (bo) => ({ id: bo.id, businessObject: bo });
const stub = (type) => ({ businessObject: { $type: type, get: () => undefined } });
const stock = ['general', 'documentation', 'timer', 'message', 'multiInstance'].map((id) => ({ id }));
const ids = (list) => list.map((g) => g.id);

describe('DealflowPropertiesProvider', () => {
  it('is a diagram-js module that registers itself with the properties panel', () => {
    expect(DealflowPropertiesProvider.$inject).toEqual(['propertiesPanel', 'dealflowContext']);
    expect(DealflowPropertiesProviderModule.__init__).toEqual(['dealflowPropertiesProvider']);
    expect(DealflowPropertiesProviderModule.dealflowContext).toEqual(['type', DealflowContext]);
    const { p, registered } = provider();
    expect(registered).toEqual([[400, p]]);
  });

  it('puts the dealflow group first, open, with the entries of the element', () => {
    const { p } = provider();
    const [first] = p.getGroups(element(byId.offer_new_conditions))(stock);
    expect(first).toMatchObject({ id: 'dealflow', shouldOpen: true });
    expect(ids(first.entries)).toEqual(['df-action', 'df-action-description', 'df-param-title', 'df-param-to', 'df-param-due', 'df-param-description']);
  });

  it('leaves out the timer and message groups everywhere, and the process name and key', () => {
    const { p } = provider();
    expect(ids(p.getGroups(stub('bpmn:IntermediateCatchEvent'))(stock)))
      .toEqual(['dealflow', 'general', 'documentation', 'multiInstance']);
    expect(ids(p.getGroups(stub('bpmn:Process'))(stock))).toEqual(['dealflow', 'documentation', 'multiInstance']);
  });
});

describe('dealflow entries', () => {
  const context = { actions: catalog };

  it('edit a process by its key, name, start parameters and preconditions', () => {
    expect(ids(dealflowEntries(element(process), context)))
      .toEqual(['df-process-id', 'df-process-name', 'df-start-parameters', 'df-required-fields']);
  });

  it('edit a service task by its action, then its parameters, positional ones first', () => {
    expect(ids(dealflowEntries(element(byId.move_to_order_assembly), context)))
      .toEqual(['df-action', 'df-action-description', 'df-param-stage', 'df-param-loss_reason']);
  });

  it('show only the action for a service task whose action the catalog does not know', () => {
    expect(ids(dealflowEntries(element(byId.move_to_order_assembly), { actions: [] }))).toEqual(['df-action']);
  });

  it('edit a message event by the CRM event it waits for', () => {
    expect(ids(dealflowEntries(element(byId.wait_bank_decision), context))).toEqual(['df-message']);
  });

  it('edit a gateway\'s outgoing flow by its condition and whether it is the default', () => {
    const flow = Object.values(byId).find((e) => e.$type === 'bpmn:SequenceFlow' && e.get('conditionExpression'));
    expect(ids(dealflowEntries(element(flow), context))).toEqual(['df-condition', 'df-default-flow']);
  });

  it('edit a user task by its texts, group and form', () => {
    expect(ids(dealflowEntries(stub('bpmn:UserTask'), context))).toEqual([
      'df-prop-title', 'df-prop-description', 'df-prop-assignee', 'df-prop-group', 'df-prop-deadline', 'df-task-form']);
    const kinds = dealflowEntries(stub('bpmn:UserTask'), context).filter((e) => e.spec).map((e) => [e.spec.name, e.spec.kind]);
    expect(kinds).toEqual([['title', 'template'], ['description', 'template'], ['assignee', 'expression'], ['deadline', 'expression']]);
  });

  it('say so when there is nothing dealflow-specific', () => {
    expect(ids(dealflowEntries(stub('bpmn:ParallelGateway'), context))).toEqual(['df-nothing']);
  });
});
