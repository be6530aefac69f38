// A robot's delay in plain words of each language, from the outline's structured `when`, with
// the plural forms Ukrainian and Russian need (1 день, 2 дні, 5 днів; 1 день, 2 дня, 5 дней).
import { describe, it, expect, vi, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import i18next from 'i18next';

const catalog = (lang) => JSON.parse(readFileSync(new URL(`../src/locales/${lang}/robots.json`, import.meta.url), 'utf8'));
const people = i18next.createInstance();
vi.mock('../src/i18n.js', () => ({ t: (key, options) => people.t(key, options) })); // the real i18n needs a browser

const { whenWords, durationWords } = await import('../src/dsl/when.js');

beforeAll(async () => {
  await people.init({
    showSupportNotice: false, lng: 'en', fallbackLng: 'en', ns: ['robots'], defaultNS: 'robots', returnNull: false,
    interpolation: { escapeValue: false },
    resources: Object.fromEntries(['en', 'uk', 'ru'].map((lang) => [lang, { robots: catalog(lang) }])),
  });
});

const after = (amount, extra = {}) => ({ kind: 'after', amount, moment: null, time: null, working_hours: null, ...extra });
const labels = { ready_date: 'Ready date' };
const fieldLabel = (code) => labels[code] || code;

describe('whenWords', () => {
  it('says a delay in English', async () => {
    await people.changeLanguage('en');
    expect(whenWords({ kind: 'immediately' })).toBe('immediately');
    expect(whenWords(after('1d'))).toBe('after 1 day');
    expect(whenWords(after('2d 4h'))).toBe('after 2 days 4 hours');
    expect(whenWords(after('1d', { time: '10:00', working_hours: 'company' }))).toBe('after 1 day, at 10:00, in working hours');
    expect(whenWords({ kind: 'at', time: '10:00' })).toBe('at 10:00');
    expect(whenWords({ kind: 'immediately', working_hours: 'responsible' })).toBe("in the responsible's working hours");
  });

  it('names the field a moment follows, and the offset from it', async () => {
    await people.changeLanguage('en');
    expect(whenWords({ kind: 'at', moment: 'deal.ready_date' }, { fieldLabel })).toBe('at “Ready date”');
    expect(whenWords({ kind: 'at', moment: 'deal.ready_date - 2h' }, { fieldLabel })).toBe('2 hours before “Ready date”');
    expect(whenWords({ kind: 'at', moment: 'deal.ready_date + 1d' }, { fieldLabel })).toBe('1 day after “Ready date”');
    // Anything else is an expression, shown as written.
    expect(whenWords({ kind: 'at', moment: 'max(deal.ready_date, deal.created_at)' })).toBe('at max(deal.ready_date, deal.created_at)');
    expect(whenWords(after('deal.term_months * 30d'))).toBe('after deal.term_months * 30d');
  });

  it('counts in Ukrainian with its three plural forms', async () => {
    await people.changeLanguage('uk');
    expect(whenWords(after('1d'))).toBe('через 1 день');
    expect(whenWords(after('2d'))).toBe('через 2 дні');
    expect(whenWords(after('5d'))).toBe('через 5 днів');
    expect(whenWords(after('21d 1h'))).toBe('через 21 день 1 годину');
    expect(whenWords(after('3h', { time: '09:30', working_hours: 'company' }))).toBe('через 3 години, о 09:30, у робочий час');
    expect(whenWords({ kind: 'at', moment: 'deal.ready_date - 2h' }, { fieldLabel })).toBe('за 2 години до «Ready date»');
    expect(whenWords({ kind: 'immediately' })).toBe('одразу');
  });

  it('counts in Russian with its three plural forms', async () => {
    await people.changeLanguage('ru');
    expect(whenWords(after('1d'))).toBe('через 1 день');
    expect(whenWords(after('3d'))).toBe('через 3 дня');
    expect(whenWords(after('11d'))).toBe('через 11 дней');
    expect(whenWords(after('1h 5m'))).toBe('через 1 час 5 минут');
    expect(whenWords({ kind: 'immediately', working_hours: 'responsible' })).toBe('в рабочее время ответственного');
  });
});

describe('durationWords', () => {
  it('reads 180 days as days though the formatter writes weeks, and whole weeks as weeks', async () => {
    await people.changeLanguage('en');
    expect(durationWords('25w 5d')).toBe('180 days');
    expect(durationWords('2w')).toBe('2 weeks');
    expect(durationWords('90s')).toBe('1 minute 30 seconds');
    expect(durationWords('deal.x')).toBeNull();
  });
});
