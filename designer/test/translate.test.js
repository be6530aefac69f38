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

/** Every literal `translate('...')` template in a package's compiled sources. */
function templatesOf(dir) {
  const found = new Set();
  const walk = (path) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.js')) {
        for (const m of readFileSync(full, 'utf8').matchAll(/translate\(\s*'((?:[^'\\]|\\.)+)'/g)) found.add(m[1]);
      }
    }
  };
  walk(dir);
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
});
