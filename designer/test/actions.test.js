// Action names and descriptions in the person's language, from the actions catalog, with the
// server's English for an action no catalog knows (a custom one).
import { describe, it, expect, vi, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import i18next from 'i18next';

const catalog = (lang) => JSON.parse(readFileSync(new URL(`../src/locales/${lang}/actions.json`, import.meta.url), 'utf8'));
const people = i18next.createInstance();
vi.mock('../src/i18n.js', () => ({ t: (key, options) => people.t(key, options) })); // the real i18n needs a browser

const { actionName, actionDescription, actionCategory, parameterLabel, parameterHint } = await import('../src/actions.js');

beforeAll(async () => {
  await people.init({
    showSupportNotice: false, lng: 'uk', fallbackLng: 'en', ns: ['actions'], defaultNS: 'actions', returnNull: false,
    resources: Object.fromEntries(['en', 'uk', 'ru'].map((lang) => [lang, { actions: catalog(lang) }])),
  });
});

const createTask = { name: 'create_task', description: 'Create a task, linked to the deal', category: 'tasks' };
const custom = { name: 'sync_to_erp', description: 'Send the deal to the ERP', category: 'custom',
  parameters: { erp_id: { type: 'text', description: 'the order number in the ERP' } } };
const withParameters = { ...createTask, parameters: { to: { type: 'user', description: "assignee; the group's queue if empty" }, title: { type: 'text', description: '' } } };

describe('action labels', () => {
  it('name a shipped action and say what it does in the person\'s language', async () => {
    await people.changeLanguage('uk');
    expect(actionName(createTask)).toBe('Створити завдання');
    expect(actionDescription(createTask)).toBe("Створити завдання, пов'язане з угодою");
    expect(actionCategory('tasks')).toBe('Завдання');
    await people.changeLanguage('ru');
    expect(actionName(createTask)).toBe('Создать задачу');
    await people.changeLanguage('en');
    expect(actionName(createTask)).toBe('Create a task');
  });

  it('show a custom action by its code in words and the server\'s description', async () => {
    await people.changeLanguage('ru');
    expect(actionName(custom)).toBe('Sync to erp');
    expect(actionDescription(custom)).toBe('Send the deal to the ERP');
  });

  it('put an action without a category under "other"', async () => {
    await people.changeLanguage('en');
    expect(actionCategory(undefined)).toBe('Other');
  });

  it('have a name and a description for every shipped action in every language', () => {
    const en = catalog('en');
    for (const lang of ['uk', 'ru']) {
      expect(Object.keys(catalog(lang).name).sort()).toEqual(Object.keys(en.name).sort());
      expect(Object.keys(catalog(lang).description).sort()).toEqual(Object.keys(en.name).sort());
    }
  });

  it('label a shipped action\'s parameters and say what they want in the person\'s language', async () => {
    await people.changeLanguage('uk');
    expect(parameterLabel(withParameters, 'to')).toBe('Виконавець');
    expect(parameterHint(withParameters, 'to')).toBe('Хто виконує; якщо порожньо — черга групи');
    await people.changeLanguage('ru');
    expect(parameterLabel(withParameters, 'title')).toBe('Название');
    expect(parameterHint(withParameters, 'title')).toBe(''); // the server says nothing more either
  });

  it('label a custom action\'s parameter by its code in words, with the server\'s description', async () => {
    await people.changeLanguage('uk');
    expect(parameterLabel(custom, 'erp_id')).toBe('Erp id');
    expect(parameterHint(custom, 'erp_id')).toBe('the order number in the ERP');
  });

  it('have the same parameters labelled in every language, each with a label', () => {
    const shape = (lang) => Object.fromEntries(Object.entries(catalog(lang).parameter)
      .map(([action, params]) => [action, Object.entries(params).map(([name, p]) => [name, Boolean(p.label), Boolean(p.hint)])]));
    expect(shape('uk')).toEqual(shape('en'));
    expect(shape('ru')).toEqual(shape('en'));
    expect(Object.values(shape('en')).flat().every(([, label]) => label)).toBe(true);
  });
});
