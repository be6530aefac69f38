/**
 * Comparing two versions of a process: which elements were added, removed or changed, and in
 * what (name, type, action and parameters, condition, script, timer, event, task properties).
 */
import { BpmnModdle } from 'bpmn-moddle';
import { dealflowModdle, spiffModdle } from './moddle.js';
import { readOperator, readProperties, readProcessSettings, conditionOf, eventDefinition, readTimer } from './model.js';

const moddle = new BpmnModdle({ dealflow: dealflowModdle, spiffworkflow: spiffModdle });

export async function parse(xml) {
  return (await moddle.fromXML(xml)).rootElement;
}

/** id -> {name, type, facts: {label: text}} for every flow element and the process itself. */
export function describe(definitions) {
  const out = new Map();
  const visit = (bo) => {
    const facts = { type: bo.$type.replace('bpmn:', ''), name: bo.get('name') || '' };
    if (bo.$type === 'bpmn:Process') {
      const settings = readProcessSettings(bo);
      facts.parameters = settings.parameters.map((p) => `${p.name}:${p.type}${p.required ? '' : '?'}`).join(', ');
      facts['required fields'] = settings.requiredFields.map((f) => f.name).join(', ');
    }
    if (bo.$type === 'bpmn:ServiceTask') {
      const { action, params } = readOperator(bo);
      facts.action = action;
      for (const [name, value] of Object.entries(params)) facts[`parameter ${name}`] = value;
    }
    if (bo.$type === 'bpmn:UserTask') {
      for (const [name, value] of Object.entries(readProperties(bo))) facts[name] = value;
    }
    if (bo.$type === 'bpmn:ScriptTask') facts.script = bo.get('script') || '';
    if (bo.$type === 'bpmn:SequenceFlow') {
      facts.condition = conditionOf(bo);
      facts.from = bo.get('sourceRef')?.id || '';
      facts.to = bo.get('targetRef')?.id || '';
    }
    if (bo.get('eventDefinitions')) {
      const timer = eventDefinition(bo, 'bpmn:TimerEventDefinition');
      if (timer) facts.timer = Object.values(readTimer(timer)).join(' ');
      const message = eventDefinition(bo, 'bpmn:MessageEventDefinition');
      if (message) facts.event = message.get('messageRef')?.get('name') || '';
    }
    out.set(bo.id, facts);
    for (const child of bo.get('flowElements') || []) visit(child);
  };
  for (const root of definitions.get('rootElements')) if (root.$type === 'bpmn:Process') visit(root);
  return out;
}

export function diff(before, after) {
  const added = [];
  const removed = [];
  const changed = [];
  for (const [id, facts] of after) {
    const old = before.get(id);
    if (!old) {
      added.push({ id, facts });
      continue;
    }
    const what = [...new Set([...Object.keys(old), ...Object.keys(facts)])]
      .filter((k) => (old[k] || '') !== (facts[k] || ''))
      .map((k) => ({ key: k, before: old[k] || '', after: facts[k] || '' }));
    if (what.length) changed.push({ id, facts, what });
  }
  for (const [id, facts] of before) if (!after.has(id)) removed.push({ id, facts });
  return { added, removed, changed };
}
