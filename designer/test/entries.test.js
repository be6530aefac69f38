// The panel's entries: the action select built from the catalog, the parameter order, and how
// typed text becomes commands — held while a burst of keys is typed, written once, in the order
// it was typed, and always before undo or redo move the command stack.
import { describe, it, expect, vi, afterEach } from 'vitest';

vi.mock('bpmn-js-properties-panel', () => ({ useService: () => null })); // its bundle needs bpmn-js's browser build
vi.mock('../src/api.js', () => ({ api: {}, once: async () => [] })); // reads the session at import; nothing here calls the server
vi.mock('../src/i18n.js', () => ({ t: (key, options) => (options && 'defaultValue' in options ? options.defaultValue : key) }));

const { actionOptions, parameterNames } = await import('../src/bpmn/entries/servicetask.js');
const { pendingWriter } = await import('../src/bpmn/entries/dsl.js');
const { DealflowContext } = await import('../src/bpmn/provider.js');
const { dateFields, dateFieldLabel } = await import('../src/bpmn/entries/event.js');
const { processOf } = await import('../src/bpmn/entries/process.js');

afterEach(() => vi.useRealTimers());

function eventBus() {
  const handlers = {};
  return { on: (name, priority, fn) => { (handlers[name] ||= []).push(fn || priority); }, fire: (name) => (handlers[name] || []).forEach((fn) => fn()) };
}

/** A command stack that records what was done to a text, so undo takes back the last write. */
function textStack() {
  const stack = { text: '', done: [], undone: [] };
  stack.write = (value) => { stack.done.push(stack.text); stack.text = value; };
  stack.undo = () => { if (stack.done.length) { stack.undone.push(stack.text); stack.text = stack.done.pop(); } };
  stack.redo = () => { if (stack.undone.length) { stack.done.push(stack.text); stack.text = stack.undone.pop(); } };
  return stack;
}

describe('the action select', () => {
  it('offers no action first, then the catalog by category', () => {
    const options = actionOptions([
      { name: 'create_task', category: 'tasks' }, { name: 'move_to', category: 'deal' }, { name: 'set_field', category: 'deal' },
    ]);
    expect(options[0]).toEqual({ value: '', label: 'bpmn:pick_action_option' });
    expect(options.slice(1)).toEqual([
      { label: 'Tasks', children: [{ value: 'create_task', label: 'Create task' }] },
      { label: 'Deal', children: [{ value: 'move_to', label: 'Move to' }, { value: 'set_field', label: 'Set field' }] },
    ]);
  });

  it('lists positional parameters first, as the dsl writes them', () => {
    expect(parameterNames({ positional: ['to', 'text'], parameters: { idempotency_key: {}, text: {}, to: {} } }))
      .toEqual(['to', 'text', 'idempotency_key']);
    expect(parameterNames({ parameters: { a: {}, b: {} } })).toEqual(['a', 'b']);
  });
});

describe('typed text as commands', () => {
  function setup() {
    const stack = textStack();
    const context = new DealflowContext(eventBus(), stack);
    const writes = [];
    const writer = (name) => pendingWriter(context, () => ({
      target: name, read: () => stack.text, write: (target, text) => { writes.push([target, text]); stack.write(text); },
    }));
    return { stack, context, writes, writer };
  }

  it('writes a burst of keys once, when the typing pauses', () => {
    vi.useFakeTimers();
    const { writes, writer } = setup();
    const title = writer('title');
    for (const text of ['C', 'Ca', 'Cal', 'Call']) title.later(text);
    expect(writes).toEqual([]);
    expect(title.pending).toBe(true);
    vi.advanceTimersByTime(300);
    expect(writes).toEqual([['title', 'Call']]);
    expect(title.pending).toBe(false);
  });

  it('makes no command when the text is what the model holds', () => {
    const { stack, writes, writer } = setup();
    stack.text = 'same';
    const title = writer('title');
    title.later('same');
    title.flush();
    expect(writes).toEqual([]);
  });

  it('writes what was typed before undo, so undo takes back the typing and not the edit before it', () => {
    const { stack, writer } = setup();
    const title = writer('title');
    title.later('first');
    title.flush();
    title.later('first and more');
    stack.undo();
    expect(stack.text).toBe('first');
    stack.redo();
    expect(stack.text).toBe('first and more');
  });

  it('keeps the order of the typing across editors', () => {
    const { writes, writer } = setup();
    const assignee = writer('assignee');
    const deadline = writer('deadline');
    assignee.later('deal.responsible');
    deadline.later('2d'); // the assignee's held write is made first
    expect(writes).toEqual([['assignee', 'deal.responsible']]);
  });

  it('writes held text when the selection changes, on the element it was typed on', () => {
    const bus = eventBus();
    const stack = textStack();
    const context = new DealflowContext(bus, stack);
    const writes = [];
    let shown = 'task_a';
    const writer = pendingWriter(context, () => ({ target: shown, read: () => '', write: (target, text) => writes.push([target, text]) }));
    writer.later('Call');
    shown = 'task_b';
    bus.fire('selection.changed');
    expect(writes).toEqual([['task_a', 'Call']]);
  });
});

describe('event and process entries', () => {
  it('offer the date fields of every pipeline for a timer at a date', () => {
    const vocab = { fields: { main: { ready_date: 'date', amount: 'money' }, credit: { ready_date: 'date', signed_at: 'datetime' } } };
    expect(dateFields(vocab)).toEqual(['ready_date', 'signed_at']);
    expect(dateFields({})).toEqual([]);
  });

  it('name a timer\'s date field by its pipeline label, not its code', () => {
    const vocab = { fields: { main: { signed_at: 'datetime' }, credit: { ready_date: 'date' } },
      labels: { credit: { ready_date: 'Дата готовності' } } };
    expect(dateFieldLabel(vocab, 'ready_date')).toBe('Дата готовності');
    expect(dateFieldLabel(vocab, 'signed_at')).toBe('Signed at');
  });

  it('edit a collaboration by its first pool\'s process', () => {
    const processBo = { $type: 'bpmn:Process', id: 'p' };
    const participant = { get: () => processBo };
    expect(processOf({ businessObject: { $type: 'bpmn:Collaboration', get: () => [participant] } })).toBe(processBo);
    expect(processOf({ businessObject: processBo })).toBe(processBo);
  });
});
