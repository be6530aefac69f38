// Completion in the DSL editors, tried on a bare EditorState (no browser needed).
import { describe, it, expect } from 'vitest';
import { EditorState } from '@codemirror/state';
import { CompletionContext } from '@codemirror/autocomplete';
import { dslCompletionSource, dslLanguage } from '../src/dsl/language.js';

const VOCAB = {
  actions: [{ name: 'create_task', positional: ['title', 'to', 'due'], description: 'Create a task' }],
  stages: { main: ['new', 'order_assembly'], credit: ['waiting'] },
  fields: { main: { title: 'text', amount: 'money' }, credit: { bank: 'text' } },
  events: { 'bank.decision': { approved: 'bool' } },
};

/** The completions at the end of `text` (or at `|`), for a person editing pipeline `scope`. */
function complete(text, scope = 'main', explicit = false) {
  const pos = text.includes('|') ? text.indexOf('|') : text.length;
  const state = EditorState.create({ doc: text.replace('|', ''), extensions: [dslLanguage] });
  return dslCompletionSource(() => VOCAB, () => scope)(new CompletionContext(state, pos, explicit));
}

const labels = (result) => result.options.map((o) => o.label);

describe('DSL completion', () => {
  it('offers the fields of the pipeline being edited after deal.', () => {
    const result = complete('  robot if deal.am');
    expect(result.from).toBe('  robot if deal.'.length);
    expect(labels(result)).toEqual(['title', 'amount']);
    expect(result.options[1].detail).toBe('money');
  });

  it('offers event payload fields after event.', () => {
    expect(labels(complete('trigger on bank.decision if event.'))).toEqual(['approved']);
  });

  it('offers event types after on, and stages with other pipelines prefixed', () => {
    expect(labels(complete('trigger on ba'))).toEqual(['bank.decision']);
    expect(labels(complete('    move_to("or'))).toEqual(['new', 'order_assembly', 'credit.waiting']);
  });

  it('offers actions with their positional order, keywords and the two variables elsewhere', () => {
    const result = complete('    cre');
    expect(result.options[0]).toMatchObject({ label: 'create_task', detail: '(title, to, due)', apply: 'create_task(' });
    expect(labels(result)).toEqual(expect.arrayContaining(['robot', 'then', 'deal', 'event']));
  });

  it('stays quiet on an empty word unless asked', () => {
    expect(complete('    ')).toBe(null);
    expect(complete('    ', 'main', true)).not.toBe(null);
  });
});
