/**
 * Text parameters of an action are written as templates: plain words with `{deal.title}` holes,
 * as a person writes a task title. The engine evaluates every service-task parameter as an
 * expression (SpiffWorkflow's operator parameters), and in the dsl a quoted string with braces
 * is a template, so a template is stored as that string literal (`"Call {deal.title}"`): the
 * XML, the deploy check and the engine stay as they were, and the two forms say the same thing.
 */

const ESCAPES = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\t': '\\t', '\r': '\\r' };
const UNESCAPES = { '\\': '\\', '"': '"', "'": "'", n: '\n', t: '\t', r: '\r' };
const STRING_LITERAL = /^\s*("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')\s*$/;

/** Whether an action's parameter (its catalog spec) takes a template rather than an expression. */
export function takesTemplate(spec) {
  return Boolean(spec) && spec.type === 'text';
}

/** The dsl string literal for a template's text: braces kept, since they open its holes. */
export function quoteTemplate(text) {
  return `"${[...text].map((c) => ESCAPES[c] || c).join('')}"`;
}

/** The text of a dsl string literal, or null when `expression` is not a single literal. */
export function unquote(expression) {
  const match = STRING_LITERAL.exec(expression || '');
  if (!match) return null;
  const inner = match[1].slice(1, -1);
  let out = '';
  for (let i = 0; i < inner.length; i += 1) {
    if (inner[i] !== '\\') {
      out += inner[i];
      continue;
    }
    const code = inner[i + 1];
    if (code === 'u' && /^[0-9a-fA-F]{4}$/.test(inner.slice(i + 2, i + 6))) {
      out += String.fromCharCode(parseInt(inner.slice(i + 2, i + 6), 16));
      i += 5;
    } else if (code in UNESCAPES) {
      out += UNESCAPES[code];
      i += 1;
    } else {
      return null; // not a literal the dsl accepts: leave it to the check to say so
    }
  }
  return out;
}

/**
 * What the panel shows for a stored text parameter: the literal's words, or any other
 * expression (`deal.title`) as the template that renders it (`{deal.title}`).
 */
export function templateOf(expression) {
  if (!expression || !expression.trim()) return '';
  const text = unquote(expression);
  return text === null ? `{${expression.trim()}}` : text;
}

/**
 * What is stored for a template typed in the panel. A text typed with its quotes, as text
 * parameters had to be written before, is kept as the literal it already is.
 */
export function expressionOf(template) {
  if (!template) return '';
  return unquote(template) !== null ? template.trim() : quoteTemplate(template);
}
