// The field picker: fields offered by their label, and the one chosen inserted where the cursor
// is, as `deal.code` in an expression and as a `{deal.code}` hole in plain words.
import { describe, it, expect, vi } from 'vitest';
import { EditorState } from '@codemirror/state';

vi.mock('../src/i18n.js', () => ({ t: (key, options) => (options && options.defaultValue) || key })); // no browser here

const { insertion, fieldReference, fieldChoices } = await import('../src/actionform.js');

const VOCAB = {
  fields: { main: { title: 'text', amount: 'money', ready_date: 'datetime' }, credit: { bank: 'text' } },
  labels: { main: { amount: 'Deal amount' } },
};

/** `text` with `|` as the cursor (or `[...]` as the selection), after inserting `reference`. */
function insert(text, reference) {
  const from = text.includes('[') ? text.indexOf('[') : text.indexOf('|');
  const doc = text.replace(/[[\]|]/g, '');
  const to = text.includes(']') ? text.indexOf(']') - 1 : from;
  const state = EditorState.create({ doc, selection: { anchor: from, head: to } });
  const next = state.update(insertion(state, reference)).state;
  const cursor = next.selection.main.head;
  return `${next.doc.sliceString(0, cursor)}|${next.doc.sliceString(cursor)}`;
}

describe('field picker', () => {
  it('inserts a field at the cursor of an expression, the cursor after it', () => {
    expect(insert('| > 1000', fieldReference('amount'))).toBe('deal.amount| > 1000');
    expect(insert('event.approved and |', fieldReference('amount', 'expression'))).toBe('event.approved and deal.amount|');
  });

  it('inserts a hole into plain words', () => {
    expect(insert('Call | today', fieldReference('title', 'text'))).toBe('Call {deal.title}| today');
  });

  it('replaces the selected text', () => {
    expect(insert('[deal.titel] == "x"', fieldReference('title'))).toBe('deal.title| == "x"');
  });

  it('offers the fields of the pipeline by label, the vocabulary\'s own first, sorted', () => {
    expect(fieldChoices(VOCAB, 'main')).toEqual([
      { code: 'amount', type: 'money', label: 'Deal amount' },
      { code: 'ready_date', type: 'datetime', label: 'Ready date' },
      { code: 'title', type: 'text', label: 'Title' },
    ]);
    expect(fieldChoices(VOCAB, 'main', ['date', 'datetime']).map((f) => f.code)).toEqual(['ready_date']);
  });

  it('offers every pipeline\'s fields where no pipeline is given (a BPMN process)', () => {
    expect(fieldChoices(VOCAB, undefined).map((f) => f.code).sort()).toEqual(['amount', 'bank', 'ready_date', 'title']);
  });
});
