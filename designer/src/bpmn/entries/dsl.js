/**
 * A properties-panel entry for a DSL text: the robots board's one-line editor (CodeMirror,
 * completion from GET /dsl/vocabulary, `{deal.x}` holes completing in a template) or a textarea
 * for multi-line texts, a field picker inserting a deal field by its label, and the server's
 * check of the text under it (also marked on the diagram).
 *
 * The editor is made once per element and field and then kept: a redraw of the panel (each
 * keystroke is a command, and every command redraws the panel) only brings it the model's value,
 * and only when that value is not what the editor already holds — an undo, a redo, an edit made
 * elsewhere. So typing never loses focus or characters to a redraw, and the panel never shows a
 * value the model no longer has.
 */
import { h as preact } from '@bpmn-io/properties-panel/preact';
import { useEffect, useLayoutEffect, useRef, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { useService } from 'bpmn-js-properties-panel';
import { lineEditor, fieldPicker, textareaEditor } from '../../actionform.js';
import { h, debounce } from '../../ui.js';
import { api } from '../../api.js';

/** null when the text is valid, else the server's message with its place. */
export async function checkText(kind, text) {
  if (!text || !text.trim()) return null;
  try {
    const result = await api.post('/dsl/check', { kind, text });
    if (result.valid) return null;
    const [first] = result.errors;
    return first.line ? `${first.message} (line ${first.line}, column ${first.column})` : first.message;
  } catch {
    return null; // the check is a convenience; deploy checks again
  }
}

/**
 * Builds the editor of a DSL entry into `host` (a DOM node the entry owns). `onText` hears what
 * the person types; `sync(value)` puts a value from the model in without reporting it back.
 */
export function buildDslEditor(host, { value, kind, field, label, placeholder, multiline, vocab, onText }) {
  const mode = kind === 'template' ? 'text' : 'expression';
  let quiet = false;
  const heard = (text) => { if (!quiet) onText(text); };
  let editor;
  let marked;
  if (multiline || !kind) {
    const input = multiline
      ? h('textarea', { rows: 3, spellcheck: 'false', placeholder, 'aria-label': label })
      : h('input', { spellcheck: 'false', placeholder, 'aria-label': label });
    input.value = value || '';
    input.dataset.field = field;
    input.addEventListener('input', () => heard(input.value));
    editor = textareaEditor(input);
    editor.set = (text) => { input.value = text; };
    marked = [input];
  } else {
    editor = lineEditor({ value, mode, vocab, label, name: field, placeholder, attrs: { 'data-field': field }, onChange: heard });
    marked = [editor.el, editor.content];
  }
  const picker = kind && vocab ? fieldPicker(editor, { vocab, mode }) : null;
  host.append(h('div', { class: 'editor-line' }, editor.el, picker));
  return {
    editor,
    get value() { return editor.value; },
    sync(text) {
      if (editor.value === text) return false;
      quiet = true;
      try { editor.set(text); } finally { quiet = false; }
      return true;
    },
    mark(invalid) { for (const node of marked) node.classList.toggle('invalid', invalid); },
    destroy() { editor.destroy(); host.replaceChildren(); },
  };
}

/**
 * A write of typed text held until the typing pauses. `describe()` names the element and its
 * getValue/setValue when the first key of a burst is typed; they are kept for the write, so a
 * write held over a change of selection still lands on the element it was typed on. Before this
 * editor's write is held, any other's is made, so commands keep the order of the typing.
 */
export function pendingWriter(context, describe, delay = 300) {
  let timer = null;
  let held = null;
  const writer = {
    get pending() { return held !== null; },
    later(text) {
      if (!held) {
        context.flushWrites(writer);
        held = { ...describe(), text };
        context.holdWrite(writer);
      }
      held.text = text;
      clearTimeout(timer);
      timer = setTimeout(() => writer.flush(), delay);
    },
    flush() {
      clearTimeout(timer);
      if (!held) return;
      const { target, read, write, text } = held;
      held = null;
      context.releaseWrite(writer);
      if ((read(target) || '') !== text) write(target, text);
    },
  };
  return writer;
}

/**
 * Props: element, id, label, hint, kind ('expression' | 'template' | 'script' | null for plain
 * text), field (the `data-field` and the problem's key), multiline, placeholder,
 * getValue(element) and setValue(element, text) — the latter a command on the stack.
 */
export function DslEntry(props) {
  const { element, id, label, hint, kind, field, multiline, placeholder, getValue } = props;
  const context = useService('dealflowContext');
  const host = useRef(null);
  const built = useRef(null);
  const latest = useRef(props);
  latest.current = props;
  const [error, setError] = useState(null);
  const value = getValue(element) || '';

  useEffect(() => {
    let alive = true;
    const check = debounce(async (text) => {
      if (!kind) return;
      const message = await checkText(kind, text);
      if (!alive) return;
      setError(message);
      if (built.current) built.current.mark(Boolean(message));
      context.problems?.set(element.id, field, message);
    }, 250);
    // What is typed is written when the typing pauses (one command, one undo step, for a word or
    // a burst of keys), when the editor is left, or before anything else moves the command stack.
    // The write is for the element the keys were typed on, whatever the panel shows by then.
    const writer = pendingWriter(context, () => {
      const { element: target, getValue: read, setValue: write } = latest.current;
      return { target, read, write };
    });
    built.current = buildDslEditor(host.current, {
      value, kind, field, label, placeholder, multiline, vocab: context.vocabulary,
      onText: (text) => { writer.later(text); check(text); },
    });
    built.current.check = check;
    built.current.writer = writer;
    const leave = () => writer.flush();
    host.current.addEventListener('focusout', leave);
    if (value) check(value);
    const node = host.current;
    return () => {
      alive = false;
      node.removeEventListener('focusout', leave);
      writer.flush();
      built.current.destroy();
      built.current = null;
    };
  }, [element.id, field, kind, multiline]); // made again only for another element or field, never for a value

  // After every draw, the model's value as it is when this runs, not as it was drawn (keys
  // typed between the draw and now would be taken back out), and whatever the last draw showed
  // (a write then its undo redraw the same value, yet the editor holds the write's text). Text
  // typed and not written yet is newer than the model: it stays.
  useLayoutEffect(() => {
    if (!built.current || built.current.writer.pending) return;
    const now = latest.current.getValue(latest.current.element) || '';
    if (built.current.sync(now)) built.current.check(now); // undo, redo, an edit elsewhere
  });

  return preact('div', { class: 'bio-properties-panel-entry df-field', 'data-entry-id': id },
    preact('span', { class: 'bio-properties-panel-label df-label' }, label),
    preact('div', { class: 'df-editor', ref: host }),
    preact('div', { class: 'df-field-error', role: 'alert' }, error || ''),
    hint ? preact('div', { class: 'bio-properties-panel-description' }, hint) : null);
}
