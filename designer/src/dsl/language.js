/**
 * CodeMirror support for dealflow's automation DSL: highlighting, completion of actions,
 * stages, deal fields and event types from the server, and the server's own errors as
 * diagnostics at their line and column.
 */
import { StreamLanguage, HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { linter } from '@codemirror/lint';
import { autocompletion } from '@codemirror/autocomplete';

const KEYWORDS = new Set([
  'pipeline', 'global', 'stage', 'robot', 'then', 'trigger', 'on', 'if', 'allow', 'backward', 'immediately',
  'after', 'at', 'of', 'responsible', 'robots', 'off', 'and', 'or', 'not', 'in', 'is',
]);
const ATOMS = new Set(['true', 'false', 'null']);

const dslMode = {
  name: 'dealflow',
  startState: () => ({}),
  token(stream) {
    if (stream.eatSpace()) return null;
    if (stream.match('#')) { stream.skipToEnd(); return 'comment'; }
    if (stream.match(/^"(?:[^"\\]|\\.)*"?/)) return 'string';
    if (stream.match(/^\d+(?:\.\d+)?(?:[smhdw]|min)?\b/)) return 'number';
    if (stream.match(/^\d{1,2}:\d{2}/)) return 'number';
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_]*/);
    if (word) {
      const text = word[0];
      if (KEYWORDS.has(text)) return 'keyword';
      if (ATOMS.has(text)) return 'atom';
      if (stream.peek() === '(') return 'function';
      if (text === 'deal' || text === 'event') return 'variableName.special';
      return 'variableName';
    }
    stream.next();
    return 'operator';
  },
  languageData: { commentTokens: { line: '#' } },
};

export const dslLanguage = StreamLanguage.define(dslMode);

const style = HighlightStyle.define([
  { tag: tags.keyword, color: '#7c3aed', fontWeight: '600' },
  { tag: tags.string, color: '#0f766e' },
  { tag: tags.number, color: '#b45309' },
  { tag: tags.comment, color: '#6b7280', fontStyle: 'italic' },
  { tag: tags.atom, color: '#b45309' },
  { tag: tags.function(tags.variableName), color: '#1d4ed8', fontWeight: '600' },
  { tag: tags.special(tags.variableName), color: '#be185d' },
]);
export const dslHighlight = syntaxHighlighting(style);

/**
 * @param getVocabulary () => {actions: [{name, description, positional, parameters}], stages: {pipeline: [codes]},
 *   fields: {pipeline: {field: type}}, events: {type: {field: type}}}
 * @param getScope () => the pipeline code being edited
 */
export function dslCompletion(getVocabulary, getScope) {
  return autocompletion({ override: [dslCompletionSource(getVocabulary, getScope)] });
}

/** The completion source of `dslCompletion`, on its own so it can be tried on a bare EditorState. */
export function dslCompletionSource(getVocabulary, getScope) {
  return (context) => {
    const vocab = getVocabulary();
    if (!vocab) return null;
    const scope = getScope();
    const dotted = context.matchBefore(/(deal|event)\.[A-Za-z0-9_]*$/);
    if (dotted) {
      const [base] = dotted.text.split('.');
      const names = base === 'deal'
        ? Object.entries((vocab.fields || {})[scope] || Object.assign({}, ...Object.values(vocab.fields || {})))
        : Object.entries(Object.assign({}, ...Object.values(vocab.events || {})));
      return { from: dotted.from + base.length + 1, options: names.map(([label, type]) => ({ label, type: 'property', detail: type })) };
    }
    const line = context.state.doc.lineAt(context.pos);
    const before = line.text.slice(0, context.pos - line.from);
    const word = context.matchBefore(/[A-Za-z0-9_.]*$/);
    if (!word || (word.from === word.to && !context.explicit)) return null;
    if (/\bon\s+[A-Za-z0-9_.]*$/.test(before)) {
      return { from: word.from, options: Object.keys(vocab.events || {}).map((label) => ({ label, type: 'event' })) };
    }
    if (/(^\s*stage\s+|move_to\s*\(\s*"?|move_to\s+)[A-Za-z0-9_.]*$/.test(before)) {
      const stages = Object.entries(vocab.stages || {}).flatMap(([p, codes]) =>
        codes.map((c) => ({ label: p === scope ? c : `${p}.${c}`, type: 'enum', detail: p })));
      return { from: word.from, options: stages };
    }
    const options = [
      ...(vocab.actions || []).map((a) => ({
        label: a.name, type: 'function', detail: `(${(a.positional || []).join(', ')})`, info: a.description,
        apply: `${a.name}(`,
      })),
      ...[...KEYWORDS].map((label) => ({ label, type: 'keyword' })),
      { label: 'deal', type: 'variable' }, { label: 'event', type: 'variable' },
    ];
    return { from: word.from, options };
  };
}

/** Diagnostics from the server: `check(text)` resolves to [{line, column, message}] (1-based). */
export function serverLinter(check) {
  return linter(async (view) => {
    const text = view.state.doc.toString();
    const errors = await check(text);
    return errors.map((e) => {
      const lineNo = Math.min(Math.max(e.line || 1, 1), view.state.doc.lines);
      const line = view.state.doc.line(lineNo);
      const from = Math.min(line.from + Math.max((e.column || 1) - 1, 0), line.to);
      const wordEnd = line.text.slice(from - line.from).search(/[\s(),:]/);
      const to = wordEnd > 0 ? from + wordEnd : Math.min(from + 1, line.to);
      return { from, to: Math.max(to, from), severity: 'error', message: e.message };
    });
  }, { delay: 400 });
}
