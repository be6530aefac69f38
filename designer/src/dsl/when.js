/**
 * A robot's "when" in the reader's words, from the delay as the server's outline holds it
 * (`{kind, amount, moment, time, working_hours}`, dsl/automation_edit.py `describe`), not from
 * the text: "after 2 days, at 10:00, in working hours", "через 2 дні, о 10:00, у робочий час".
 * Durations are counted with the language's plural forms (i18next plurals: one, few, many in
 * Ukrainian and Russian). A moment that is a deal field (give or take a duration) is named by
 * the field's label; an amount or a moment that is some other expression is shown as written.
 */
import { t } from '../i18n.js';

const DURATION = /^\d+[wdhms](?:\s*\d+[wdhms])*$/;
const SECONDS = { w: 604800, d: 86400, h: 3600, m: 60, s: 1 };
const UNITS = [['day', 86400], ['hour', 3600], ['minute', 60], ['second', 1]];
const MOMENT = /^deal\.([A-Za-z_][A-Za-z0-9_]*)(?:\s*([+-])\s*(\d+[wdhms](?:\s*\d+[wdhms])*))?$/;

/** "2 days 4 hours" for `2d 4h`; null when `text` is not a plain duration. Weeks only when the
 * whole is weeks: the formatter writes 180d as `25w 5d`, which a person reads as 180 days. */
export function durationWords(text) {
  const trimmed = String(text ?? '').trim();
  if (!DURATION.test(trimmed)) return null;
  let total = 0;
  for (const [, count, unit] of trimmed.matchAll(/(\d+)([wdhms])/g)) total += Number(count) * SECONDS[unit];
  if (total === 0) return t('robots:when_words.unit.second', { count: 0 });
  if (total % SECONDS.w === 0) return t('robots:when_words.unit.week', { count: total / SECONDS.w });
  const words = [];
  let rest = total;
  for (const [unit, size] of UNITS) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count) words.push(t(`robots:when_words.unit.${unit}`, { count }));
  }
  return words.join(' ');
}

function momentWords(moment, fieldLabel) {
  const m = String(moment).trim().match(MOMENT);
  if (!m) return t('robots:when_words.at_moment', { moment });
  const field = fieldLabel(m[1]);
  if (!m[2]) return t('robots:when_words.at_field', { field });
  const duration = durationWords(m[3]);
  return t(m[2] === '-' ? 'robots:when_words.before_field' : 'robots:when_words.after_field', { duration, field });
}

/**
 * The words of one step's `when`. `fieldLabel(code)` names a deal field (the board passes the
 * field picker's labels); without it a field shows as its code.
 */
export function whenWords(when, { fieldLabel = (code) => code } = {}) {
  const w = when || {};
  const words = [];
  if (w.kind === 'after' && w.amount) {
    const duration = durationWords(w.amount);
    words.push(duration ? t('robots:when_words.after', { duration }) : t('robots:when_words.after_expression', { amount: w.amount }));
  } else if (w.kind === 'at' && w.moment) {
    words.push(momentWords(w.moment, fieldLabel));
  }
  if (w.time) words.push(t('robots:when_words.at_time', { time: w.time }));
  // "immediately in working hours" is the first working moment: the hours say it alone.
  if (w.working_hours === 'company') words.push(t('robots:when_words.company_hours'));
  else if (w.working_hours === 'responsible') words.push(t('robots:when_words.responsible_hours'));
  if (!words.length) words.push(t('robots:when_words.immediately'));
  return words.join(t('robots:when_words.separator'));
}
