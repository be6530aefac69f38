/**
 * The shipped processes' labels in the person's language (bpmn/<key>.labels.json, served at
 * /process-labels): start parameters, steps, form fields and task titles of a diagram are
 * written in English; these say them in Ukrainian or Russian. A translation is used only while
 * the text shown is still the shipped English, so a designer's own process, or a label a
 * designer changed, is shown as written.
 */
import { api } from './api.js';
import { language } from './i18n.js';

let labels = {};
let loading = null;

/** Reads the labels once per page; a screen awaits this before it draws a process's texts. */
export function loadProcessLabels() {
  if (!loading) {
    loading = api.get('/process-labels').then((found) => { labels = found || {}; })
      .catch(() => { loading = null; }); // without them the diagram's own text is shown
  }
  return loading;
}

/** `shown` (the diagram's text for `section`/`ref` of process `key`) in the person's language. */
export function processLabel(key, section, ref, shown) {
  const process = labels[key];
  if (!process || process.en?.[section]?.[ref] !== shown) return shown;
  return process[language()]?.[section]?.[ref] || shown;
}

/** A user task's form field label, by the task's element id, whichever shipped process made it. */
export function formLabel(elementId, field, shown) {
  for (const key of Object.keys(labels)) {
    const translated = processLabel(key, 'forms', `${elementId}.${field}`, shown);
    if (translated !== shown) return translated;
  }
  return shown;
}

const HOLE = /\{([^{}]+)\}/g;
const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What a title template's holes held in `title`, or null if `title` is not made from it. */
function holesOf(template, title) {
  const names = [];
  const parts = template.split(HOLE);
  const pattern = parts.map((part, i) => (i % 2 ? (names.push(part), '(.+?)') : escape(part))).join('');
  const match = new RegExp(`^${pattern}$`, 's').exec(title);
  if (!match) return null;
  return Object.fromEntries(names.map((name, i) => [name, match[i + 1]]));
}

/**
 * A task's title in the person's language when a shipped diagram made it: matched against the
 * English title templates ("Deliver {deal.title} to {deal.delivery_address}") and said again
 * with the same values; any other title as written.
 */
export function taskTitle(title) {
  if (!title || language() === 'en') return title;
  for (const process of Object.values(labels)) {
    for (const [ref, template] of Object.entries(process.en?.titles || {})) {
      const translated = process[language()]?.titles?.[ref];
      const values = translated ? holesOf(template, title) : null;
      if (values) return translated.replace(HOLE, (_, name) => values[name] ?? '');
    }
  }
  return title;
}
