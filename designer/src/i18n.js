/**
 * The one i18n layer of the app (designer and workspace). Every string a person reads goes
 * through `t`; every date, number and sum of money through the `format*` helpers, so a change
 * of language re-renders in the person's own conventions (Intl). Catalogs are JSON files, one
 * per feature (an i18next namespace) and language: `locales/<lang>/<namespace>.json`. A key is
 * written `namespace:path.to.key`; `tests/designer/test_catalogs.py` fails when a catalog misses
 * a key another language has. English is in the app's first chunk (it is also what a missing
 * text falls back to); Ukrainian and Russian are a chunk each (`locales/<lang>.js`), fetched when
 * the language is first chosen, so nobody downloads the catalogs of languages they do not read.
 */
import i18next from 'i18next';

export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'uk', name: 'Українська' },
  { code: 'ru', name: 'Русский' },
];
const STORAGE_KEY = 'dealflow.language';
const LOCALE_OF = { en: 'en-GB', uk: 'uk-UA', ru: 'ru-RU' };

const OTHER_LANGUAGES = { uk: () => import('./locales/uk.js'), ru: () => import('./locales/ru.js') };

/** namespace -> catalog, from a glob of `<lang>/<namespace>.json` files. */
function catalogs(files) {
  const found = {};
  for (const [path, catalog] of Object.entries(files)) found[path.match(/([^/]+)\.json$/)[1]] = catalog;
  return found;
}

const english = catalogs(import.meta.glob('./locales/en/*.json', { eager: true, import: 'default' }));

i18next.init({
  resources: { en: english },
  lng: 'en',
  fallbackLng: 'en',
  ns: Object.keys(english),
  defaultNS: 'common',
  interpolation: { escapeValue: false }, // the DOM helpers insert text nodes, never HTML
  returnNull: false,
  initImmediate: false,
});
document.documentElement.lang = i18next.language;

async function loadLanguage(code) {
  if (code === 'en' || i18next.hasResourceBundle(code, 'common')) return;
  const { default: files } = await OTHER_LANGUAGES[code]();
  for (const [namespace, catalog] of Object.entries(catalogs(files))) i18next.addResourceBundle(code, namespace, catalog);
}

/** Resolves once the browser's language (stored, else the browser's own) can be shown: main.js
 * waits for it before drawing the first screen. A catalog that cannot be fetched leaves English. */
export const languageReady = setLanguage(initialLanguage(), { remember: false }).catch(() => false);

function initialLanguage() {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (isSupported(stored)) return stored;
  const browser = (navigator.language || 'en').slice(0, 2);
  return isSupported(browser) ? browser : 'en';
}

function isSupported(code) {
  return LANGUAGES.some((l) => l.code === code);
}

/** The translation of `key` (`namespace:dotted.key`), with `{{name}}` holes filled from `options`. */
export function t(key, options) {
  return i18next.t(key, options);
}

export function language() {
  return i18next.language;
}

/** Switch the language for this browser, once its catalogs are here; listeners (the shell)
 * re-render. Resolves whether it changed; unknown codes are ignored. */
export async function setLanguage(code, { remember = true } = {}) {
  if (!isSupported(code) || code === i18next.language) return false;
  await loadLanguage(code);
  if (remember) localStorage.setItem(STORAGE_KEY, code);
  await i18next.changeLanguage(code);
  document.documentElement.lang = code;
  return true;
}

export function onLanguageChanged(fn) {
  i18next.on('languageChanged', fn);
  return () => i18next.off('languageChanged', fn);
}

function locale() {
  return LOCALE_OF[i18next.language] || i18next.language;
}

export function formatNumber(value, options) {
  if (value === null || value === undefined || value === '') return '';
  return new Intl.NumberFormat(locale(), options).format(Number(value));
}

/** A sum of money in its currency ("12 500,00 ₴" in uk, "UAH 12,500.00" in en). */
export function formatMoney(amount, currency = 'UAH') {
  if (amount === null || amount === undefined || amount === '') return '';
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency: currency || 'UAH' }).format(Number(amount));
  } catch {
    return `${formatNumber(amount)} ${currency}`; // a currency code Intl does not know
  }
}

function asDate(value) {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDate(value) {
  const d = asDate(value);
  return d ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(d) : (value || '');
}

export function formatDateTime(value) {
  const d = asDate(value);
  return d ? new Intl.DateTimeFormat(locale(), { dateStyle: 'short', timeStyle: 'short' }).format(d) : (value || '');
}

export function formatTime(value) {
  const d = asDate(value);
  return d ? new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(d) : (value || '');
}

/** "in 3 days", "2 hours ago": for deadlines and feeds. */
export function formatRelative(value, now = new Date()) {
  const d = asDate(value);
  if (!d) return value || '';
  const seconds = (d.getTime() - now.getTime()) / 1000;
  const units = [['year', 31536000], ['month', 2592000], ['week', 604800], ['day', 86400], ['hour', 3600], ['minute', 60]];
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(Math.round(seconds), 'second');
}
