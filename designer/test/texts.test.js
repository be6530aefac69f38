// Text parameters typed as templates and stored as the dsl string literal the engine evaluates.
import { describe, it, expect } from 'vitest';
import { takesTemplate, quoteTemplate, unquote, templateOf, expressionOf } from '../src/bpmn/texts.js';

describe('text parameters', () => {
  it('are templates only where the action wants text', () => {
    expect(takesTemplate({ type: 'text' })).toBe(true);
    for (const type of ['user', 'stage', 'duration', 'money', 'any']) expect(takesTemplate({ type })).toBe(false);
    expect(takesTemplate(undefined)).toBe(false);
  });

  it('store plain words as a quoted literal, holes and doubled braces as written', () => {
    expect(expressionOf('Call the client')).toBe('"Call the client"');
    expect(expressionOf('About {deal.title}, {{urgent}}')).toBe('"About {deal.title}, {{urgent}}"');
    expect(quoteTemplate('say "hi"\\ now\nplease')).toBe('"say \\"hi\\"\\\\ now\\nplease"');
    expect(expressionOf('')).toBe('');
  });

  it('keep a text typed with its quotes as the literal it is', () => {
    expect(expressionOf('"Greeted {deal.title}"')).toBe('"Greeted {deal.title}"');
  });

  it('read back as they were typed, and any other expression as the hole that renders it', () => {
    for (const typed of ['Call the client', 'About {deal.title}, {{urgent}}', 'say "hi"\\ now\nplease']) {
      expect(templateOf(expressionOf(typed))).toBe(typed);
    }
    expect(templateOf('deal.title')).toBe('{deal.title}');
    expect(templateOf("'single \\'quoted\\''")).toBe("single 'quoted'");
    expect(templateOf('"\\u0041BC"')).toBe('ABC');
    expect(templateOf('  ')).toBe('');
  });

  it('leave a literal with an escape the dsl refuses to the server check', () => {
    expect(unquote('"bad \\q escape"')).toBe(null);
    expect(unquote('"a" + "b"')).toBe(null);
  });
});
