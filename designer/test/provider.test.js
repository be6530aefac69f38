// The dealflow properties provider: its group comes first, and the generic groups it edits in
// its own terms are left out, so an element has one editor for each of its settings.
import { describe, it, expect, vi } from 'vitest';

vi.mock('../src/i18n.js', () => ({ t: (key) => key })); // the catalogs need a browser document

const { DealflowPropertiesProvider, DealflowPropertiesProviderModule } = await import('../src/bpmn/provider.js');

function provider() {
  const registered = [];
  const panel = { registerProvider: (priority, p) => registered.push([priority, p]) };
  const host = { el: {} };
  const p = new DealflowPropertiesProvider(panel, host);
  return { p, registered, host };
}

const element = (type) => ({ businessObject: { $type: type } });
const stock = ['general', 'documentation', 'timer', 'message', 'multiInstance'].map((id) => ({ id }));
const ids = (groups) => groups.map((g) => g.id);

describe('DealflowPropertiesProvider', () => {
  it('is a diagram-js module that registers itself with the properties panel', () => {
    expect(DealflowPropertiesProvider.$inject).toEqual(['propertiesPanel', 'dealflowPanelHost']);
    expect(DealflowPropertiesProviderModule.__init__).toEqual(['dealflowPropertiesProvider']);
    const { p, registered } = provider();
    expect(registered).toEqual([[400, p]]);
  });

  it('puts the dealflow group first, open, hosting the one dealflow panel', () => {
    const { p, host } = provider();
    const [first] = p.getGroups(element('bpmn:ServiceTask'))(stock);
    expect(first).toMatchObject({ id: 'dealflow', shouldOpen: true });
    expect(first.entries).toEqual([expect.objectContaining({ id: 'dealflow-settings', host })]);
  });

  it('leaves out the timer and message groups everywhere, and the process name and key', () => {
    const { p } = provider();
    expect(ids(p.getGroups(element('bpmn:IntermediateCatchEvent'))(stock)))
      .toEqual(['dealflow', 'general', 'documentation', 'multiInstance']);
    expect(ids(p.getGroups(element('bpmn:Process'))(stock))).toEqual(['dealflow', 'documentation', 'multiInstance']);
  });
});
