// The lint wrapper: the same diagram checked again gives the same answer (issue 15's
// "Validate, then Deploy fails": a shared Linter reported every flow as a duplicate).
import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { lintDiagram } from '../src/bpmn/lint.js';
import { parse } from '../src/bpmn/compare.js';

const shipped = (name) => readFileSync(new URL(`../../bpmn/${name}.bpmn`, import.meta.url), 'utf8');

describe('lintDiagram', () => {
  it('finds nothing in a shipped process, however often it is run', async () => {
    const definitions = await parse(shipped('send_to_bank'));
    expect(await lintDiagram(definitions)).toEqual([]);
    expect(await lintDiagram(definitions)).toEqual([]);
  });

  it('puts each problem on its element with the rule that found it', async () => {
    const xml = shipped('send_to_bank').replace('</bpmn:process>', '<bpmn:task id="loose" name="Loose" /></bpmn:process>');
    const problems = await lintDiagram(await parse(xml));
    expect(problems).toEqual([{ id: 'loose', rule: 'no-disconnected', message: expect.stringContaining('(no-disconnected)') }]);
  });
});
