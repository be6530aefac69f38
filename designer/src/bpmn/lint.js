/**
 * bpmnlint in the browser: the structural rules that matter for a diagram dealflow runs
 * (the server's checks of texts and actions come on top, in the processes view's Validate).
 */
import { Linter } from 'bpmnlint';
import StaticResolver from 'bpmnlint/lib/resolver/static-resolver';
import startEventRequired from 'bpmnlint/rules/start-event-required';
import endEventRequired from 'bpmnlint/rules/end-event-required';
import noDisconnected from 'bpmnlint/rules/no-disconnected';
import noImplicitSplit from 'bpmnlint/rules/no-implicit-split';
import noDuplicateSequenceFlows from 'bpmnlint/rules/no-duplicate-sequence-flows';
import fakeJoin from 'bpmnlint/rules/fake-join';
import conditionalFlows from 'bpmnlint/rules/conditional-flows';
import superfluousGateway from 'bpmnlint/rules/superfluous-gateway';
import eventBasedGateway from 'bpmnlint/rules/event-based-gateway';
import noOverlappingElements from 'bpmnlint/rules/no-overlapping-elements';

const RULES = {
  'start-event-required': startEventRequired,
  'end-event-required': endEventRequired,
  'no-disconnected': noDisconnected,
  'no-implicit-split': noImplicitSplit,
  'no-duplicate-sequence-flows': noDuplicateSequenceFlows,
  'fake-join': fakeJoin,
  'conditional-flows': conditionalFlows,
  'superfluous-gateway': superfluousGateway,
  'event-based-gateway': eventBasedGateway,
  'no-overlapping-elements': noOverlappingElements,
};

const CONFIG = { rules: Object.fromEntries(Object.keys(RULES).map((name) => [name, 'error'])) };

/**
 * A new Linter for every run: bpmnlint caches the rule instances a Linter made, and some rules
 * keep what they saw in them (no-duplicate-sequence-flows remembers every flow), so a shared
 * Linter's second run reported each flow of the first as a duplicate.
 */
function freshLinter() {
  const resolver = new StaticResolver(Object.fromEntries(
    Object.entries(RULES).map(([name, rule]) => [`rule:bpmnlint/${name}`, rule])));
  return new Linter({ resolver, config: CONFIG });
}

/** [{id, message, rule}] for the diagram's definitions. */
export async function lintDiagram(definitions) {
  const results = await freshLinter().lint(definitions);
  return Object.entries(results).flatMap(([rule, reports]) =>
    reports.map((r) => ({ id: r.id, message: `${r.message} (${rule})`, rule })));
}
