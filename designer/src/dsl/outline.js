/**
 * A plain-words outline of an automation text for the board: stages with their robots and
 * triggers. It reads the layout of the text only (the server is the parser of record and
 * checks every save), so a text with errors still shows what it can.
 */
import { t } from '../i18n.js';
import { actionName } from '../actions.js';
const HEADER = /^(robot|then|trigger)\s*(?:"((?:[^"\\]|\\.)*)")?\s*(.*?):?\s*$/;

export function outline(text) {
  const stages = [];
  const loose = []; // triggers outside any stage (global files)
  let stage = null;
  let card = null;
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\s+#.*$/, '');
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    const trimmed = line.trim();
    const stageMatch = indent === 0 && trimmed.match(/^stage\s+([A-Za-z0-9_]+)\s*(\(robots off\))?\s*:/);
    if (stageMatch) {
      stage = { code: stageMatch[1], robotsOff: Boolean(stageMatch[2]), cards: [] };
      stages.push(stage);
      card = null;
      continue;
    }
    if (indent === 0 && /^(pipeline|global)\b/.test(trimmed)) continue;
    const header = trimmed.match(HEADER);
    if (header && (indent > 0 || header[1] === 'trigger')) {
      if (indent === 0) stage = null;
      card = { kind: header[1], name: header[2] || '', line: index + 1, ...describeHeader(header[1], header[3]), actions: [] };
      (stage ? stage.cards : loose).push(card);
      continue;
    }
    if (card) card.actions.push(trimmed);
  }
  return { stages, loose };
}

function describeHeader(kind, rest) {
  let when = '';
  let condition = '';
  let event = '';
  let text = rest.trim();
  const ifAt = text.search(/\bif\b/);
  if (ifAt >= 0) {
    condition = text.slice(ifAt + 2).replace(/\ballow backward\b/, '').trim();
    text = text.slice(0, ifAt).trim();
  }
  if (kind === 'trigger') {
    event = text.replace(/^on\s+/, '').replace(/\ballow backward\b/, '').trim();
    when = t('robots:when_happens', { event });
  } else {
    when = text || t('robots:immediately'); // the DSL's own words (after 2d, at 10:00) are kept as written
    if (kind === 'then') when = t('robots:then', { when });
  }
  return { when, condition, event };
}

/** An action call as a card's line: the action by its name in the person's language, then its arguments. */
export function plainAction(action) {
  const m = action.match(/^([a-z_]+)\s*\((.*)\)\s*$/);
  if (!m) return action;
  const name = actionName({ name: m[1] });
  return m[2] ? `${name}: ${m[2]}` : name;
}
