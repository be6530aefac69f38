/**
 * The store's task screens (SCENARIOS.md S3, S4): "my tasks" (overdue, today, later) and a
 * kanban board per task group (`#/tasks/logistics`, `#/tasks/purchasing`) with the columns the
 * server declares (GET /tasks/boards). Dragging a card to another column is POST /tasks/{id}/move,
 * the `task.moved` event the courier and purchase processes watch: a card dropped in `problem`
 * notifies the deal's manager at once. Dropping on "Done" completes the task, with the task's
 * own form when it has one. Boards listen to their `tasks:<group>` room, so a delivery task
 * created by a deal entering `delivery` shows up without a reload.
 */
import Sortable from 'sortablejs';
import { api } from '../api.js';
import { h, clear, toast, errorText, debounce } from '../ui.js';
import { t, formatMoney, formatRelative, formatDate } from '../i18n.js';
import { fieldForm, openDialog, errorsByField } from '../forms.js';
import { watch } from '../live.js';
import { loadProcessLabels, formLabel, taskTitle } from '../labels.js';

const SEE_ALL = ['administrator', 'director', 'designer', 'integration'];
const GROUP_OF_ROLE = { logistician: 'logistics', purchaser: 'purchasing' };
/** Who a group's tasks are given to: deliveries go to drivers, purchases to purchasers. */
const ASSIGNEE_ROLE = { logistics: 'driver', purchasing: 'purchaser' };
const DONE = 'done';

/** The boards a person may watch, as crm/access.py `can_watch_board` says. */
export function boardsFor(user, groups) {
  const roles = user.roles || [];
  if (roles.some((r) => SEE_ALL.includes(r))) return groups;
  return groups.filter((g) => roles.some((r) => GROUP_OF_ROLE[r] === g));
}

export function tasksView(params, { user }) {
  const group = params[0] || null;
  const tabs = h('nav', { class: 'tb-tabs', 'aria-label': t('tasks:tabs') });
  const body = h('div', { class: 'tb-body' });
  const el = h('div', { class: 'page tb-page' }, tabs, body);
  const inner = group ? boardView(group, user) : myTasksView(user);
  body.append(inner.el);

  return {
    el,
    async mounted() {
      try {
        const [boards] = await Promise.all([api.get('/tasks/boards'), loadProcessLabels()]);
        const mine = boardsFor(user, boards.map((b) => b.group));
        const tab = (href, label, active) => h('a', { href, class: active ? 'active' : '', 'aria-current': active ? 'page' : null }, label);
        clear(tabs, tab('#/tasks', t('tasks:my.title'), !group),
          mine.map((g) => tab(`#/tasks/${g}`, groupName(g), g === group)));
        if (inner.mounted) await inner.mounted(boards);
      } catch (err) {
        toast(errorText(err), 'error');
      }
    },
    destroy() { if (inner.destroy) inner.destroy(); },
  };
}

export function groupName(group) {
  return t(`tasks:group.${group}`, { defaultValue: group });
}

function columnName(column) {
  return t(`tasks:column.${column}`, { defaultValue: column });
}

function can(user, permission) {
  return (user.permissions || []).includes(permission);
}

function isoDay(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

// ------------------------------------------------------------------------------ a card

function amountOf(task) {
  const amount = task.data && task.data.amount_to_collect;
  return amount === undefined || amount === null || amount === '' ? null : amount;
}

function card(task, { user, onChanged, columns }) {
  const overdue = task.status === 'open' && task.deadline && new Date(task.deadline) < new Date();
  const amount = amountOf(task);
  const address = task.data && task.data.address;
  const actions = [];
  if (task.status === 'open' && can(user, 'work_tasks')) {
    if (columns) {
      const select = h('select', { 'aria-label': t('tasks:card.move_to', { title: task.title }), class: 'tb-move',
        onchange: () => moveTo(task, select.value, onChanged) },
      columns.map((c) => h('option', { value: c, selected: c === task.column }, columnName(c))));
      actions.push(select);
    }
    if (can(user, 'assign_tasks') && task.group) {
      actions.push(h('button', { type: 'button', class: 'small', dataset: { action: 'assign' },
        onclick: () => assignDialog(task, onChanged) }, t('tasks:card.assign')));
    }
    actions.push(h('button', { type: 'button', class: 'small primary', dataset: { action: 'complete' },
      onclick: () => completeTask(task, onChanged) }, t('tasks:card.complete')));
  }
  return h('article', { class: `tb-card${overdue ? ' tb-overdue' : ''}`, dataset: { taskId: task.id }, 'aria-label': task.title },
    h('div', { class: 'tb-card-title' }, taskTitle(task.title)),
    task.deal_id ? h('a', { class: 'tb-deal', href: `#/deals/${task.deal_id}` }, task.deal_title || t('tasks:card.deal')) : null,
    h('dl', { class: 'tb-facts' },
      fact(t('tasks:card.assignee'), task.assignee_name || t('tasks:card.unassigned'), 'assignee'),
      task.deadline ? fact(t('tasks:card.deadline'),
        h('time', { datetime: task.deadline, title: formatDate(task.deadline) }, formatRelative(task.deadline)), 'deadline') : null,
      amount !== null ? fact(t('tasks:card.amount_to_collect'), formatMoney(amount, task.data.currency), 'amount') : null,
      address ? fact(t('tasks:card.address'), address, 'address') : null,
      task.data && task.data.sale_price != null ? fact(t('tasks:card.sale_price'), formatMoney(task.data.sale_price, task.data.currency), 'price') : null,
      task.data && task.data.note ? fact(t('tasks:card.note'), task.data.note, 'note') : null),
    actions.length ? h('div', { class: 'tb-card-actions' }, actions) : null);
}

function fact(label, value, name) {
  return h('div', { class: `tb-fact tb-fact-${name}` }, h('dt', {}, label), h('dd', {}, value));
}

async function moveTo(task, column, onChanged) {
  if (column === task.column) return;
  try {
    await api.post(`/tasks/${task.id}/move`, { column });
    toast(t('tasks:moved', { title: task.title, column: columnName(column) }));
  } catch (err) {
    toast(errorText(err), 'error');
  }
  onChanged();
}

/**
 * Complete a task: with its own form (a BPMN user task's `form`) when it has one, else after a
 * plain confirmation. A 422 puts the server's messages on the fields. Resolves true when done.
 */
export function completeTask(task, onChanged, { extraFields = [], result = () => ({}) } = {}) {
  return new Promise((resolve) => {
    const own = (Array.isArray(task.form) ? task.form : []).map((f) => ({ ...f, label: formLabel(task.element_id, f.name, f.label) }));
    const fields = [...own, ...extraFields];
    const form = fields.length ? fieldForm(fields, { idPrefix: `complete-${task.id}` }) : null;
    let finished = false;
    openDialog({
      title: t('tasks:complete.title', { title: taskTitle(task.title) }),
      body: form ? form.el : h('p', {}, t('tasks:complete.confirm')),
      submitLabel: t('tasks:complete.submit'),
      async onSubmit() {
        if (form && Object.keys(form.validate()).length) {
          form.focusFirstError();
          return false;
        }
        try {
          await api.post(`/tasks/${task.id}/complete`, { result: { ...(form ? form.values() : {}), ...result(form) } });
        } catch (err) {
          if (form && err.status === 422) {
            form.showErrors(errorsByField(err));
            form.focusFirstError();
            return false;
          }
          throw new Error(errorText(err));
        }
        finished = true;
        toast(t('tasks:complete.done', { title: task.title }));
        return true;
      },
      onClose() {
        resolve(finished);
        if (onChanged) onChanged();
      },
    });
  });
}

/** Give a task to one of the group's people for a day; a delivery shows each driver's load that day. */
async function assignDialog(task, onChanged) {
  const role = ASSIGNEE_ROLE[task.group];
  let people;
  try {
    people = await api.get(`/users${role ? `?role=${role}` : ''}`);
  } catch (err) {
    toast(errorText(err), 'error');
    return;
  }
  const due = task.deadline ? new Date(task.deadline) : new Date();
  const pad = (n) => String(n).padStart(2, '0');
  const day = h('input', { type: 'date', id: `assign-day-${task.id}`, name: 'day', required: true, value: isoDay(due) });
  const time = h('input', { type: 'time', id: `assign-time-${task.id}`, name: 'time', required: true,
    value: task.deadline ? `${pad(due.getHours())}:${pad(due.getMinutes())}` : '10:00' });
  const list = h('div', { class: 'tb-people', role: 'radiogroup', 'aria-label': t('tasks:assign.who') });
  const loads = new Map();

  async function renderPeople() {
    const date = day.value;
    const delivery = task.group === 'logistics';
    if (delivery && date) {
      await Promise.all(people.map(async (p) => {
        try {
          const sheet = await api.get(`/tasks/load-sheet?date=${date}&driver=${encodeURIComponent(p.login)}`);
          loads.set(p.id, sheet.deliveries.filter((d) => d.status === 'open' && d.task_id !== task.id).length);
        } catch { loads.delete(p.id); }
      }));
    }
    const chosen = list.querySelector('input:checked')?.value || String(task.assignee_id ?? '');
    clear(list, people.map((p) => h('label', { class: 'tb-person' },
      h('input', { type: 'radio', name: 'assignee', value: String(p.id), checked: String(p.id) === chosen }),
      h('span', { class: 'tb-person-name' }, p.name),
      delivery && loads.has(p.id) ? h('span', { class: 'tb-load', dataset: { login: p.login } },
        t('tasks:assign.load', { count: loads.get(p.id) })) : null)));
  }
  day.addEventListener('change', renderPeople);
  await renderPeople();

  openDialog({
    title: t('tasks:assign.title', { title: task.title }),
    body: h('div', { class: 'field-form' }, list,
      h('div', { class: 'tb-when' },
        h('div', { class: 'form-row' }, h('label', { for: day.id }, t('tasks:assign.day')), day),
        h('div', { class: 'form-row' }, h('label', { for: time.id }, t('tasks:assign.time')), time))),
    submitLabel: t('tasks:assign.submit'),
    async onSubmit() {
      const picked = list.querySelector('input:checked');
      if (!picked) throw new Error(t('tasks:assign.pick'));
      if (!day.value || !time.value) throw new Error(t('tasks:assign.when'));
      const deadline = new Date(`${day.value}T${time.value}`).toISOString();
      try {
        await api.post(`/tasks/${task.id}/assign`, { assignee_id: Number(picked.value), deadline });
      } catch (err) {
        throw new Error(errorText(err));
      }
      const person = people.find((p) => String(p.id) === picked.value);
      toast(t('tasks:assign.done', { title: task.title, name: person ? person.name : '' }));
      return true;
    },
    onClose: onChanged,
  });
}

// ------------------------------------------------------------------------------ a group's board

function boardView(group, user) {
  const loadStrip = h('p', { class: 'tb-loads', 'aria-live': 'polite' });
  const columnsEl = h('div', { class: 'tb-board' });
  const el = h('section', { class: 'tb-section', 'aria-labelledby': `board-${group}` },
    h('div', { class: 'toolbar' }, h('h2', { id: `board-${group}` }, t('tasks:board.title', { group: groupName(group) })), loadStrip),
    columnsEl);
  let columns = [];
  let sortables = [];
  let stop = null;
  let dragging = false;
  const refresh = debounce(() => { if (!dragging) load(); }, 150);

  async function load() {
    try {
      const [open, done] = await Promise.all([
        api.get(`/tasks?group=${encodeURIComponent(group)}&status=open&limit=200`),
        api.get(`/tasks?group=${encodeURIComponent(group)}&status=done&limit=20`),
      ]);
      render(open, done);
      if (group === 'logistics' && can(user, 'plan_deliveries')) loadsToday();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  async function loadsToday() {
    try {
      const drivers = await api.get('/users?role=driver');
      const today = isoDay(new Date());
      const sheets = await Promise.all(drivers.map((d) => api.get(`/tasks/load-sheet?date=${today}&driver=${encodeURIComponent(d.login)}`)));
      clear(loadStrip, h('span', { class: 'muted' }, t('tasks:board.loads_today')), ' ',
        drivers.map((d, i) => h('span', { class: 'tb-load', dataset: { login: d.login } },
          `${d.name}: ${t('tasks:assign.load', { count: sheets[i].deliveries.filter((x) => x.status === 'open').length })}`)));
    } catch { clear(loadStrip); }
  }

  function render(open, done) {
    sortables.forEach((s) => s.destroy());
    sortables = [];
    const byColumn = Object.fromEntries(columns.map((c) => [c, []]));
    for (const task of open.slice().sort(byDeadline)) (byColumn[task.column] ||= []).push(task);
    const all = [...columns, ...Object.keys(byColumn).filter((c) => !columns.includes(c))];
    const lane = (column, tasks, extra = '') => {
      const list = h('div', { class: 'tb-cards', dataset: { column } },
        tasks.map((task) => card(task, { user, onChanged: load, columns: all })));
      const heading = h('h3', { class: 'tb-column-title' }, columnName(column), h('span', { class: 'tb-count' }, String(tasks.length)));
      return { el: h('section', { class: `tb-column tb-column-${column}${extra}`, dataset: { column }, 'aria-label': columnName(column) }, heading, list), list };
    };
    const lanes = all.map((c) => lane(c, byColumn[c] || []));
    const doneLane = lane(DONE, done, ' tb-done');
    clear(columnsEl, lanes.map((l) => l.el), doneLane.el);
    if (!can(user, 'work_tasks')) return;
    const options = {
      group: { name: `tasks-${group}`, pull: true, put: true },
      animation: 120,
      forceFallback: true, // pointer events: the same drag with a mouse, a finger or a test
      fallbackTolerance: 4,
      filter: 'button, select, a, input',
      preventOnFilter: false,
      onStart: () => { dragging = true; },
      onEnd: (event) => { dragging = false; dropped(event); },
    };
    sortables = lanes.map((l) => Sortable.create(l.list, options));
    sortables.push(Sortable.create(doneLane.list, { ...options, group: { name: `tasks-${group}`, pull: false, put: true }, sort: false }));
    function dropped(event) {
      const to = event.to.dataset.column;
      const from = event.from.dataset.column;
      const task = open.find((x) => String(x.id) === event.item.dataset.taskId);
      if (!task || to === from) return;
      if (to === DONE) completeTask(task, load);
      else moveTo(task, to, load);
    }
  }

  return {
    el,
    async mounted(boards) {
      const board = boards.find((b) => b.group === group);
      columns = board ? board.columns : [];
      stop = watch(`tasks:${group}`, (event) => { if (event === 'task.changed') refresh(); });
      await load();
    },
    destroy() {
      sortables.forEach((s) => s.destroy());
      if (stop) stop();
    },
  };
}

function byDeadline(a, b) {
  const da = a.deadline ? Date.parse(a.deadline) : Infinity;
  const db = b.deadline ? Date.parse(b.deadline) : Infinity;
  return da - db || a.id - b.id;
}

// ------------------------------------------------------------------------------ my tasks

function myTasksView(user) {
  const sections = h('div', { class: 'tb-mine' });
  const el = h('section', { class: 'tb-section', 'aria-labelledby': 'my-tasks' },
    h('div', { class: 'toolbar' }, h('h2', { id: 'my-tasks' }, t('tasks:my.title'))), sections);
  let stop = null;
  const refresh = debounce(load, 150);

  async function load() {
    try {
      const tasks = (await api.get(`/tasks?assignee_id=${user.id}&status=open&limit=200`)).sort(byDeadline);
      const now = new Date();
      const today = isoDay(now);
      const buckets = { overdue: [], today: [], later: [] };
      for (const task of tasks) {
        const due = task.deadline ? new Date(task.deadline) : null;
        if (due && due < now) buckets.overdue.push(task);
        else if (due && isoDay(due) === today) buckets.today.push(task);
        else buckets.later.push(task);
      }
      clear(sections, Object.entries(buckets).map(([name, list]) => h('section', { class: `tb-bucket tb-bucket-${name}`, dataset: { bucket: name } },
        h('h3', {}, t(`tasks:my.${name}`), h('span', { class: 'tb-count' }, String(list.length))),
        list.length ? h('div', { class: 'tb-bucket-cards' }, list.map((task) => card(task, { user, onChanged: load })))
          : h('p', { class: 'muted' }, t('tasks:my.none')))));
    } catch (err) {
      toast(errorText(err), 'error');
    }
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
