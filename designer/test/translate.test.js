// The translate override given to bpmn-js and dmn-js: their own controls speak the person's
// language, and every text the installed editors ask for has an entry in each catalog.
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import i18next from 'i18next';
import { translateIn } from '../src/modeler/translate.js';

const LOCALES = new URL('../src/locales/', import.meta.url).pathname;
const MODULES = new URL('../node_modules/', import.meta.url).pathname;
const catalog = (lang, ns) => JSON.parse(readFileSync(join(LOCALES, lang, `${ns}.json`), 'utf8'));

/** A JavaScript single-quoted literal's text, as the library hands it to `translate` at run time. */
const unquote = (literal) => literal.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));

/**
 * Every literal `translate('...')` template in a package's compiled sources (a file or a folder),
 * and both texts of `translate(test ? 'A' : 'B')`, which the panel uses for "ID" and "Participant ID".
 */
function templatesOf(path) {
  const found = new Set();
  const scan = (source) => {
    for (const m of source.matchAll(/translate\(\s*'((?:[^'\\]|\\.)+)'/g)) found.add(unquote(m[1]));
    for (const m of source.matchAll(/translate\([^()'`]*(?:\([^()]*\)[^()'`]*)*\?\s*'([^']+)'\s*:\s*'([^']+)'\s*\)/g)) {
      found.add(m[1]);
      found.add(m[2]);
    }
  };
  const walk = (at) => {
    if (!statSync(at).isDirectory()) {
      if (at.endsWith('.js')) scan(readFileSync(at, 'utf8'));
      return;
    }
    for (const name of readdirSync(at)) walk(join(at, name));
  };
  walk(path);
  return found;
}

beforeAll(async () => {
  const resources = {};
  for (const lang of ['en', 'uk', 'ru']) resources[lang] = { dmn: catalog(lang, 'dmn'), diagram: catalog(lang, 'diagram') };
  await i18next.init({ resources, lng: 'uk', fallbackLng: 'en', interpolation: { escapeValue: false } });
});

describe('translate for the editors', () => {
  it('answers the decision table controls in the current language', async () => {
    const translate = translateIn('dmn');
    await i18next.changeLanguage('uk');
    expect(translate('Add rule')).toBe('Додати правило');
    expect(translate('Hit policy:')).toBe('Політика спрацювання:');
    await i18next.changeLanguage('ru');
    expect(translate('Add rule')).toBe('Добавить правило');
  });

  it('fills the holes dmn-js writes, padded or not, and keeps dots and colons as text', async () => {
    const translate = translateIn('dmn');
    await i18next.changeLanguage('uk');
    expect(translate('e.g. { sample }', { sample: 'P1Y2M' })).toBe('напр. P1Y2M');
    expect(translate('Expression language: {expressionLanguageLabel}', { expressionLanguageLabel: 'FEEL' }))
      .toBe('Мова виразів: FEEL');
  });

  it('leaves a template it does not know in English', async () => {
    await i18next.changeLanguage('uk');
    expect(translateIn('diagram')('Open {element}', { element: 'X' })).toBe('Відкрити X');
    expect(translateIn('diagram')('A text a newer bpmn-js added')).toBe('A text a newer bpmn-js added');
  });

  it('has an entry for every text the installed decision table editor translates', () => {
    const missing = [...templatesOf(join(MODULES, 'dmn-js-decision-table/lib'))]
      .filter((text) => !(text in catalog('uk', 'dmn')));
    expect(missing.filter((text) => text.trim().length > 1)).toEqual([]);
  });

  it('has an entry for every palette, context pad and replace menu text of bpmn-js', () => {
    const uk = catalog('uk', 'diagram');
    const used = [
      ...templatesOf(join(MODULES, 'bpmn-js/lib/features/palette')),
      ...templatesOf(join(MODULES, 'bpmn-js/lib/features/context-pad')),
      ...templatesOf(join(MODULES, 'bpmn-js/lib/features/popup-menu')),
    ];
    const labels = [...readFileSync(join(MODULES, 'bpmn-js/lib/features/popup-menu/PopupEntries.js'), 'utf8')
      .matchAll(/label: '([^']+)'/g)].map((m) => m[1]);
    expect([...used, ...labels].filter((text) => !(text in uk))).toEqual([]);
  });

  it('has an entry in every language for each text the properties panel translates', () => {
    const used = [
      ...templatesOf(join(MODULES, 'bpmn-js-properties-panel/dist/index.esm.js')),
      ...templatesOf(join(MODULES, '@bpmn-io/properties-panel/dist/index.esm.js')),
    ];
    // The list header builds its template at run time: `List contains {numOfItems} item(s)`.
    used.push('List contains {numOfItems} item', 'List contains {numOfItems} items');
    expect(used).toContain('Element documentation');
    expect(used).toContain('Participant ID');
    for (const lang of ['en', 'uk', 'ru']) {
      const texts = catalog(lang, 'diagram');
      expect([lang, used.filter((text) => !(text in texts))]).toEqual([lang, []]);
    }
  });

  it('names the panel groups, entries and header types in Ukrainian and Russian', async () => {
    const translate = translateIn('diagram');
    await i18next.changeLanguage('uk');
    expect(translate('General')).toBe('Загальне');
    expect(translate('Element documentation')).toBe('Документація елемента');
    expect(translate('Start Event')).toBe(translate('Start event')); // the header names a type as the palette does
    expect(translate('List contains {numOfItems} items', { numOfItems: 3 })).toBe('Список містить елементів: 3');
    await i18next.changeLanguage('ru');
    expect(translate('Executable')).toBe('Исполняемый');
    expect(translate('Variable events that trigger the condition evaluation.\n\nIf none selected, all variable events will trigger the condition evaluation.'))
      .toMatch(/^События переменных/);
  });
});
