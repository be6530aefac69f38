// What the panel reads from dealflow's extension XML, on the shipped Send to bank.
import { readFileSync } from 'node:fs';
import { describe, it, expect, beforeAll } from 'vitest';
import { parse, describe as describeDiagram, diff } from '../src/bpmn/compare.js';
import { readOperator, readProcessSettings, conditionOf, eventDefinition } from '../src/bpmn/model.js';
import { templateOf } from '../src/bpmn/texts.js';

let process;
let byId;
let definitions;

beforeAll(async () => {
  definitions = await parse(readFileSync(new URL('../../bpmn/send_to_bank.bpmn', import.meta.url), 'utf8'));
  process = definitions.get('rootElements').find((r) => r.$type === 'bpmn:Process');
  byId = Object.fromEntries(process.get('flowElements').map((e) => [e.id, e]));
});

describe('the panel model', () => {
  it('reads a service task action with its parameters as stored', () => {
    const { action, params } = readOperator(byId.offer_new_conditions);
    expect(action).toBe('create_task');
    expect(params.to).toBe('deal.responsible');
    expect(params.due).toBe('1d');
    expect(templateOf(params.title)).toBe('Offer new conditions or another product'); // shown as plain words
  });

  it('reads the start parameters and the deal fields the process needs', () => {
    const settings = readProcessSettings(process);
    expect(settings.parameters.map((p) => [p.name, p.type, p.required])).toEqual([['ready_date', 'datetime', true]]);
    expect(settings.requiredFields.map((f) => f.name)).toEqual(['credit_type', 'bank', 'id_document', 'term_months', 'down_payment']);
  });

  it('reads gateway conditions and the CRM event a catch waits for', () => {
    expect(conditionOf(byId.flow_approved)).toBe('event.approved == true');
    const waits = process.get('flowElements').find((e) => e.$type === 'bpmn:IntermediateCatchEvent');
    expect(eventDefinition(waits, 'bpmn:MessageEventDefinition').get('messageRef').get('name')).toBe('bank.decision');
  });

  it('finds no difference between a diagram and itself', () => {
    const facts = describeDiagram(definitions);
    expect(diff(facts, facts)).toEqual({ added: [], removed: [], changed: [] });
  });
});
