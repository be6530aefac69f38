/**
 * The form of one robot (with its `then` steps) or one trigger of a stage, opened from the
 * robots board. It holds the item as the server's outline gives it and hands back the same
 * shape; the server applies it to the DSL text (POST /robots/{scope}/edit) and its errors come
 * back by field ("condition", "then.0.actions.1.args.0") and are shown there.
 */
import { h, clear } from '../ui.js';
import { t } from '../i18n.js';
import { openDialog } from '../forms.js';
import { actionForm, editorRow, lineEditor, fieldPicker } from '../actionform.js';

const DELAY_KINDS = ['immediately', 'after', 'at'];
const EMPTY_ACTION = { name: 'notify', args: [{ name: 'to', value: 'deal.responsible' }] };

/**
 * @param kind 'robot' | 'trigger'
 * @param item the outline's robot chain or trigger, or null for a new one
 * @param submit async (spec) => true | [{field, message}] (the problems keep the form open)
 * @param remove async () => true | problems, or null when the item is new
 */
export function openItemForm({ kind, stageName, anyStage = false, item, vocab, actions, scope, submit, remove }) {
  const slots = {}; // field path -> error element
  const cleanups = [];
  const checks = []; // each gives how many required inputs are empty, marking them
  const body = h('div', { class: 'robot-form', dataset: { kind } });
  const nameInput = h('input', { name: 'name', value: (item && item.name) || '', placeholder: t('robots:name_placeholder') });
  slots.name = h('div', { class: 'field-error', role: 'alert' });
  body.append(h('label', { class: 'form-row', dataset: { field: 'name' } }, t('robots:name'), nameInput, slots.name));

  let read;
  if (kind === 'robot') {
    const first = stepEditor({ step: item, prefix: '', vocab, actions, scope, slots, cleanups, checks, keyword: 'robot' });
    const thenList = h('div', { class: 'then-steps' });
    const thenSteps = [];
    const addThen = (step) => {
      const index = thenSteps.length;
      const box = h('fieldset', { class: 'then-step', dataset: { then: index } });
      const editor = stepEditor({ step, prefix: `then.${index}.`, vocab, actions, scope, slots, cleanups, checks, keyword: 'then' });
      const entry = { box, editor };
      box.append(h('legend', {}, t('robots:then_step', { number: index + 1 }),
        h('button', {
          type: 'button', class: 'icon', title: t('robots:remove_then'), 'aria-label': t('robots:remove_then'),
          onclick: () => { thenSteps.splice(thenSteps.indexOf(entry), 1); editor.dispose(); box.remove(); },
        }, '×')), editor.el);
      thenSteps.push(entry);
      thenList.append(box);
    };
    for (const step of (item && item.then) || []) addThen(step);
    body.append(first.el, thenList,
      h('button', { type: 'button', class: 'small', 'data-action': 'add-then', onclick: () => addThen({ when: { kind: 'after', amount: '1d' }, actions: [EMPTY_ACTION] }) },
        `+ ${t('robots:add_then')}`));
    read = () => ({ name: nameInput.value, ...first.value(), then: thenSteps.map((s) => s.editor.value()) });
  } else {
    const events = Object.keys(vocab.events || {}).sort();
    const eventSelect = h('select', { name: 'event', 'aria-label': t('robots:event') },
      h('option', { value: '' }, t('robots:pick_event')),
      events.map((e) => h('option', { value: e, selected: item && item.event === e }, t(`robots:events.${e.replace(/\W/g, '_')}`, { defaultValue: e }))));
    if (item && item.event && !events.includes(item.event)) eventSelect.append(h('option', { value: item.event, selected: true }, item.event));
    slots.event = h('div', { class: 'field-error', role: 'alert' });
    const condition = editorRow({ label: t('robots:condition'), name: 'condition', value: item && item.condition, vocab, scope, placeholder: 'event.approved == true', hint: t('robots:condition_hint_trigger') });
    cleanups.push(() => condition.editor.destroy());
    slots.condition = condition.error;
    const backward = h('input', { type: 'checkbox', name: 'allow_backward', checked: Boolean(item && item.allow_backward) });
    const list = actionList({ initial: (item && item.actions) || [], prefix: '', vocab, actions, scope, slots, cleanups, checks, optional: !anyStage });
    body.append(
      h('label', { class: 'form-row', dataset: { field: 'event' } }, t('robots:event'), eventSelect, slots.event),
      condition.row,
      ...(anyStage ? [] : [h('label', { class: 'inline' }, backward, ` ${t('robots:allow_backward')}`)]),
      h('p', { class: 'muted small' }, anyStage ? t('robots:trigger_hint_any') : t('robots:trigger_hint', { stage: stageName })),
      list.el);
    read = () => ({ name: nameInput.value, event: eventSelect.value, condition: condition.editor.value, allow_backward: backward.checked, actions: list.value() });
  }

  const general = h('div', { class: 'field-error form-general', role: 'alert' });
  body.append(general);
  const where = anyStage ? '_any' : '';
  const title = item ? t(`robots:edit_${kind}${where}`, { stage: stageName }) : t(`robots:new_${kind}${where}`, { stage: stageName });
  const dialog = openDialog({
    title, body, submitLabel: t('robots:save_item'),
    onSubmit: async () => {
      const spec = read(); // before the checks: removed steps are gone from both
      if (checks.reduce((n, check) => n + check(), 0)) return false;
      const result = await submit(spec);
      if (result === true) return true;
      showProblems(result);
      return false;
    },
    onClose: () => { for (const fn of cleanups) fn(); },
  });
  dialog.dialog.classList.add('dialog-wide');
  if (remove) {
    const removeButton = h('button', {
      type: 'button', class: 'danger', 'data-action': 'remove-item',
      onclick: async () => {
        const result = await remove();
        if (result === true) dialog.close();
        else showProblems(result);
      },
    }, t(`robots:remove_${kind}`));
    dialog.dialog.querySelector('.dialog-actions').prepend(removeButton);
  }

  function showProblems(problems) {
    for (const slot of Object.values(slots)) if (slot.textContent !== undefined) slot.textContent = '';
    for (const list of Object.values(slots)) if (typeof list.reset === 'function') list.reset();
    const loose = [];
    for (const p of problems || []) {
      if (!p.field || !place(p.field, p.message)) loose.push(p.line ? t('robots:at_message', { line: p.line, column: p.column, message: p.message }) : p.message);
    }
    general.textContent = loose.join('\n');
    const first = body.querySelector('.field-error:not(:empty)');
    if (first) first.scrollIntoView({ block: 'nearest' });
  }

  /** Puts `message` on the deepest known slot of `field`; an action's own form takes the rest of the path. */
  function place(field, message) {
    const parts = field.split('.');
    for (let n = parts.length; n > 0; n -= 1) {
      const key = parts.slice(0, n).join('.');
      const slot = slots[key];
      if (!slot) continue;
      if (typeof slot.show === 'function') slot.show(parts.slice(n).join('.'), message);
      else slot.textContent = slot.textContent ? `${slot.textContent} ${message}` : message;
      return true;
    }
    return false;
  }
  return dialog;
}

/** When, condition and actions of one step; `prefix` is its place in the error paths. */
function stepEditor({ step, prefix, vocab, actions, scope, slots, cleanups, checks, keyword }) {
  const when = (step && step.when) || { kind: 'immediately' };
  const el = h('div', { class: 'step-editor' });
  const kindSelect = h('select', { name: `${prefix}when.kind`, 'aria-label': t('robots:when') },
    DELAY_KINDS.map((k) => h('option', { value: k, selected: k === when.kind }, t(`robots:delay.${k}`))));
  const amount = h('input', { name: `${prefix}when.amount`, value: when.amount || '', placeholder: '2d 4h', 'aria-label': t('robots:amount'), size: 10 });
  const moment = lineEditor({ value: when.moment || '', vocab, scope, label: t('robots:moment'), name: `${prefix}when.moment`, placeholder: 'deal.ready_date - 2h' });
  cleanups.push(() => moment.destroy());
  const momentPicker = fieldPicker(moment, { vocab, scope, only: ['date', 'datetime'] });
  const clock = h('input', { type: 'time', name: `${prefix}when.time`, value: when.time || '', 'aria-label': t('robots:time_of_day') });
  const hours = h('select', { name: `${prefix}when.working_hours`, 'aria-label': t('robots:working_hours') },
    [['', 'any_time'], ['company', 'company_hours'], ['responsible', 'responsible_hours']].map(([v, key]) =>
      h('option', { value: v, selected: (when.working_hours || '') === v }, t(`robots:${key}`))));
  const whenError = h('div', { class: 'field-error', role: 'alert' });
  slots[`${prefix}when`] = whenError;
  const afterBox = h('span', { class: 'when-part' }, amount);
  const atBox = h('span', { class: 'when-part when-moment' }, moment.el, momentPicker);
  const sync = () => {
    afterBox.hidden = kindSelect.value !== 'after';
    atBox.hidden = kindSelect.value !== 'at';
  };
  kindSelect.addEventListener('change', sync);
  sync();
  el.append(h('div', { class: 'form-row', dataset: { field: `${prefix}when` } },
    h('span', { class: 'row-label' }, keyword === 'then' ? t('robots:when_then') : t('robots:when')),
    h('div', { class: 'when-line' }, kindSelect, afterBox, atBox,
      h('label', { class: 'inline small' }, t('robots:at_time'), ' ', clock), hours),
    whenError));
  const condition = editorRow({ label: t('robots:condition'), name: `${prefix}condition`, value: step && step.condition, vocab, scope, placeholder: 'deal.amount > 10000', hint: t('robots:condition_hint') });
  cleanups.push(() => condition.editor.destroy());
  slots[`${prefix}condition`] = condition.error;
  const list = actionList({ initial: (step && step.actions) || [EMPTY_ACTION], prefix, vocab, actions, scope, slots, cleanups, checks });
  el.append(condition.row, list.el);
  return {
    el,
    dispose: list.dispose,
    value: () => ({
      when: {
        kind: kindSelect.value,
        amount: kindSelect.value === 'after' ? amount.value : null,
        moment: kindSelect.value === 'at' ? moment.value : null,
        time: clock.value || null,
        working_hours: hours.value || null,
      },
      condition: condition.editor.value,
      actions: list.value(),
    }),
  };
}

/** The actions of a step: each an action form, added and removed in place. */
function actionList({ initial, prefix, vocab, actions, scope, slots, cleanups, checks, optional = false }) {
  const el = h('div', { class: 'action-list' });
  const listError = h('div', { class: 'field-error', role: 'alert' });
  slots[`${prefix}actions`] = {
    get textContent() { return listError.textContent; },
    set textContent(v) { listError.textContent = v; },
    show(rest, message) {
      const [index, ...path] = rest.split('.');
      const form = forms[Number(index)];
      if (rest && form) {
        form.showErrors({ [path.join('.') || '']: message });
      } else listError.textContent = message;
    },
    reset() { for (const f of forms) f.showErrors({}); listError.textContent = ''; },
  };
  const forms = [];
  const holder = h('div', { class: 'action-forms' });
  const add = (value) => {
    let form;
    const remove = () => { forms.splice(forms.indexOf(form), 1); form.destroy(); form.el.remove(); };
    form = actionForm({ actions, vocab, scope, value, name: `${prefix}actions.${forms.length}`, onRemove: remove });
    forms.push(form);
    holder.append(form.el);
  };
  for (const value of initial) add(value);
  cleanups.push(() => { for (const f of forms) f.destroy(); });
  let gone = false; // the step holding this list was removed from the form
  checks.push(() => (gone ? 0 : forms.reduce((n, f) => n + f.missing(), 0)));
  clear(el, h('span', { class: 'row-label' }, optional ? t('robots:actions_optional') : t('robots:actions')), holder, listError,
    h('button', { type: 'button', class: 'small', 'data-action': 'add-action', onclick: () => add(null) }, `+ ${t('robots:add_action')}`));
  return { el, value: () => forms.map((f) => f.value()), dispose: () => { gone = true; } };
}
