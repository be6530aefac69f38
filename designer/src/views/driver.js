/**
 * The driver's day on a phone (S3): the load sheet of a day (GET /tasks/load-sheet) in the
 * order the deliveries are due, each with its address, the client's phone as a tel: link, the
 * products, the amount to collect and the preferred time. "Delivered" completes the task with
 * the amount collected (the courier process then moves the deal to delivery_check and tells the
 * manager); "Problem" moves it to the `problem` column with a note (the manager is told at once).
 * Built for 390 px wide: one column, big buttons, nothing wider than the screen.
 */
import { api } from '../api.js';
import { h, clear, toast, errorText, debounce } from '../ui.js';
import { t, formatMoney, formatTime, formatDate, formatNumber } from '../i18n.js';
import { fieldForm, openDialog, errorsByField } from '../forms.js';
import { watch } from '../live.js';

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

function dayFrom(offset) {
  const d = new Date();
  d.setDate(d.getDate() + offset);
  return d;
}

export function driverView(params, { user }) {
  let offset = 0;
  const switcher = h('div', { class: 'dd-days', role: 'group', 'aria-label': t('driver:days') });
  const heading = h('h2', { class: 'dd-title', id: 'driver-day' });
  const list = h('ol', { class: 'dd-list', 'aria-labelledby': 'driver-day' });
  const el = h('div', { class: 'page dd-page' }, h('div', { class: 'dd-head' }, heading, switcher), list);
  let stop = null;
  const refresh = debounce(load, 150);

  function renderSwitcher() {
    clear(switcher, [[-1, 'yesterday'], [0, 'today'], [1, 'tomorrow']].map(([value, key]) => h('button', {
      type: 'button', class: value === offset ? 'active' : '', 'aria-pressed': value === offset ? 'true' : 'false',
      dataset: { day: key },
      onclick: () => { offset = value; load(); },
    }, t(`driver:${key}`))));
  }

  async function load() {
    renderSwitcher();
    const day = dayFrom(offset);
    heading.textContent = t('driver:title', { date: formatDate(day) });
    try {
      const sheet = await api.get(`/tasks/load-sheet?date=${isoDay(day)}`);
      if (!sheet.deliveries.length) {
        clear(list, h('li', { class: 'dd-empty muted' }, t('driver:none')));
        return;
      }
      clear(list, sheet.deliveries.map((d, i) => delivery(d, i + 1)));
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function delivery(d, n) {
    const open = d.status === 'open';
    const phoneHref = d.phone ? `tel:${String(d.phone).replace(/[^\d+]/g, '')}` : null;
    return h('li', { class: `dd-delivery${open ? '' : ' dd-closed'}${d.column === 'problem' ? ' dd-problem' : ''}`, dataset: { taskId: d.task_id } },
      h('div', { class: 'dd-top' },
        h('span', { class: 'dd-number', 'aria-hidden': 'true' }, String(n)),
        h('span', { class: 'dd-time' }, d.due ? formatTime(d.due) : ''),
        d.delivery_time ? h('span', { class: 'dd-window' }, t('driver:preferred', { time: d.delivery_time })) : null,
        !open ? h('span', { class: 'dd-status' }, t('driver:delivered_status')) : d.column === 'problem'
          ? h('span', { class: 'dd-status dd-status-problem' }, t('driver:problem_status')) : null),
      h('h3', { class: 'dd-address' }, d.address || d.title),
      d.client ? h('p', { class: 'dd-client' }, d.client) : null,
      d.note ? h('p', { class: 'dd-note' }, t('driver:note_is', { note: d.note })) : null,
      phoneHref ? h('a', { class: 'dd-phone', href: phoneHref }, t('driver:call', { phone: d.phone })) : null,
      d.products && d.products.length ? h('ul', { class: 'dd-products', 'aria-label': t('driver:products') },
        d.products.map((p) => h('li', {}, `${p.name} × ${formatNumber(p.qty ?? 1)}`))) : null,
      h('p', { class: 'dd-amount' }, h('span', {}, t('driver:amount_to_collect')), ' ',
        h('strong', {}, formatMoney(d.amount_to_collect ?? 0, d.currency))),
      open ? h('div', { class: 'dd-actions' },
        h('button', { type: 'button', class: 'primary dd-big', dataset: { action: 'delivered' }, onclick: () => delivered(d) }, t('driver:delivered')),
        h('button', { type: 'button', class: 'dd-big dd-problem-button', dataset: { action: 'problem' }, onclick: () => problem(d) }, t('driver:problem'))) : null);
  }

  async function delivered(d) {
    let task;
    try {
      task = await api.get(`/tasks/${d.task_id}`);
    } catch (err) {
      toast(errorText(err), 'error');
      return;
    }
    // A process's own form when the task has one; else the amount the client paid.
    // `amount_collected` is the courier process's own field: prefilled with what the client owes.
    const own = Array.isArray(task.form) && task.form.length ? task.form : null;
    const collected = { name: 'amount_collected', label: t('driver:collected'), type: 'money', required: true };
    const fields = (own || [collected]).map((f) => (f.name === 'amount_collected' && f.value === undefined
      ? { ...f, value: d.amount_to_collect ?? 0 } : f));
    const form = fieldForm(fields, { idPrefix: `delivered-${d.task_id}` });
    openDialog({
      title: t('driver:delivered_title', { address: d.address || d.title }),
      body: form.el,
      submitLabel: t('driver:delivered'),
      async onSubmit() {
        if (Object.keys(form.validate()).length) { form.focusFirstError(); return false; }
        try {
          await api.post(`/tasks/${d.task_id}/complete`, { result: form.values() });
        } catch (err) {
          if (err.status === 422) { form.showErrors(errorsByField(err)); form.focusFirstError(); return false; }
          throw new Error(errorText(err));
        }
        toast(t('driver:delivered_done'));
        return true;
      },
      onClose: load,
    });
  }

  function problem(d) {
    const form = fieldForm([{ name: 'note', label: t('driver:note'), type: 'text', required: true }], { idPrefix: `problem-${d.task_id}` });
    openDialog({
      title: t('driver:problem_title', { address: d.address || d.title }),
      body: form.el,
      submitLabel: t('driver:problem_submit'),
      async onSubmit() {
        if (Object.keys(form.validate()).length) { form.focusFirstError(); return false; }
        try {
          await api.post(`/tasks/${d.task_id}/move`, { column: 'problem', note: form.values().note });
        } catch (err) {
          if (err.status === 422) { form.showErrors(errorsByField(err)); return false; }
          throw new Error(errorText(err));
        }
        toast(t('driver:problem_done'));
        return true;
      },
      onClose: load,
    });
  }

  return {
    el,
    async mounted() {
      stop = watch(`feed:${user.id}`, (event) => { if (event === 'task.changed') refresh(); });
      await load();
    },
    destroy() { if (stop) stop(); },
  };
}
