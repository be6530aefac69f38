/**
 * The deal card (`#/deals/<id>`): what a manager works in all day. The deal's typed fields edited
 * in place, its products with the total, the client's phones and emails, the stage strip of its
 * pipeline; one feed of everything that happened (timeline, robots with their reasons, process
 * steps); "Run process" with a start form that also asks for the deal fields the process
 * requires; the deal's tasks (a task with a form opens it) and its running processes.
 *
 * Server data: GET /deals/{id}/card, /deals/{id}/feed, /deals/{id}/processes, /tasks, /instances.
 */
import { guardUnsaved } from '../unsaved.js';
import { api } from '../api.js';
import { h, clear, toast, errorText, debounce } from '../ui.js';
import { t, formatMoney, formatDateTime } from '../i18n.js';
import { fieldForm, openDialog, errorsByField } from '../forms.js';
import { watch } from '../live.js';
import { loadProcessLabels, processLabel, formLabel, taskTitle } from '../labels.js';
import { timelineText } from '../timeline.js';

const FEED_PAGE = 100;

/** The server's messages by field, with its bare "required" said in the person's language. */
function fieldErrors(err) {
  const out = {};
  for (const [name, message] of Object.entries(errorsByField(err))) {
    out[name] = /^(is )?required$/.test(message) ? t('common:form.required') : message;
  }
  return out;
}

/**
 * A shipped process (bpmn/) is named in the person's language while it still has its shipped
 * English name; a name someone gave it in the modeler is theirs and is shown as written.
 */
function processName(key, name) {
  const shipped = `deal:shipped_process.${key}`;
  return name && t(shipped, { lng: 'en', defaultValue: '' }) === name ? t(shipped) : name || key;
}

/** Types a start parameter may have that the form renderer knows by another name. */
const PARAM_TYPES = { duration: 'string' };

export function dealCard(id) {
  const header = h('div', { class: 'deal-head' });
  const strip = h('ol', { class: 'stage-strip', 'aria-label': t('deal:stages') });
  const details = h('section', { class: 'card-panel', id: 'deal-details', 'aria-labelledby': 'deal-details-title' });
  const products = h('section', { class: 'card-panel', id: 'deal-products', 'aria-labelledby': 'deal-products-title' });
  const client = h('section', { class: 'card-panel', id: 'deal-contact', 'aria-labelledby': 'deal-contact-title' });
  const run = h('section', { class: 'card-panel', id: 'deal-processes', 'aria-labelledby': 'deal-processes-title' });
  const tasks = h('section', { class: 'card-panel', id: 'deal-tasks', 'aria-labelledby': 'deal-tasks-title' });
  const feed = h('section', { class: 'card-panel', id: 'deal-feed', 'aria-labelledby': 'deal-feed-title' });
  const el = h('div', { class: 'page deal-card' },
    h('div', { class: 'toolbar' }, h('a', { href: '#/deals' }, `← ${t('deal:back')}`), header),
    strip,
    h('div', { class: 'deal-columns' },
      h('div', { class: 'deal-column' }, details),
      h('div', { class: 'deal-column' }, client, run, tasks, products),
      h('div', { class: 'deal-column deal-feed-column' }, feed)));

  let card = null;
  let fieldsForm = null;
  let productsDirty = false;
  let feedItems = [];

  let fieldsBaseline = '';
  // Compared with what the form read back right after drawing, not with the server's values:
  // "45990.00" and a datetime in UTC come back from the inputs as 45990 and a local time.
  const fieldsDirty = () => Boolean(fieldsForm) && JSON.stringify(fieldsForm.values()) !== fieldsBaseline;
  const dirty = () => fieldsDirty() || productsDirty;
  const release = guardUnsaved(dirty);

  async function load() {
    try {
      [card] = await Promise.all([api.get(`/deals/${id}/card`), loadProcessLabels()]);
    } catch (err) {
      clear(header, h('h2', {}, t('deal:not_found')));
      toast(errorText(err), 'error');
      return;
    }
    renderHeader();
    renderDetails();
    renderProducts();
    renderContact();
    // The feed first: a manager's list of a process's steps is read from it.
    await Promise.all([loadTasks(), loadFeed()]);
    await loadProcesses();
  }

  function renderHeader() {
    const { deal, pipeline } = card;
    clear(header,
      h('h2', { id: 'deal-title' }, deal.title),
      h('span', { class: 'deal-amount' }, formatMoney(deal.amount, deal.currency)),
      h('span', { class: 'muted' }, pipeline.name));
    const current = pipeline.stages.findIndex((s) => s.code === deal.stage);
    clear(strip, pipeline.stages.map((stage, index) => h('li', {
      class: `stage-step stage-${stage.kind}${index < current ? ' passed' : ''}${index === current ? ' current' : ''}`,
      'aria-current': index === current ? 'step' : null,
      dataset: { stage: stage.code },
    }, stage.name)));
  }

  // --- details: core attributes and the pipeline's typed fields, edited in place ---------------
  function renderDetails() {
    const { deal } = card;
    const core = [
      { name: 'title', label: t('deal:field.title'), type: 'string', required: true, value: deal.title },
      { name: 'amount', label: t('deal:field.amount'), type: 'money', value: deal.amount },
      { name: 'responsible_id', label: t('deal:field.responsible'), type: 'user', options: card.responsible_options, value: deal.responsible_id },
    ];
    const custom = card.fields.map((f) => ({ ...f, required: false, options: f.type === 'user' ? card.responsible_options : f.options }));
    fieldsForm = fieldForm([...core, ...custom], { idPrefix: 'deal' });
    const save = h('button', { type: 'submit', class: 'primary', disabled: !card.may_edit }, t('common:form.save'));
    const status = h('p', { class: 'form-status', role: 'status' });
    const form = h('form', {
      class: 'deal-fields',
      onsubmit: async (event) => {
        event.preventDefault();
        status.textContent = '';
        const values = fieldsForm.values();
        const body = { version: card.deal.version, fields: {} };
        for (const f of core) body[f.name] = values[f.name];
        for (const f of custom) body.fields[f.name] = values[f.name];
        save.disabled = true;
        try {
          await api.patch(`/deals/${id}`, body);
          await load();
          toast(t('deal:saved')); // once the card shows what was saved
        } catch (err) {
          const byField = fieldErrors(err);
          fieldsForm.showErrors(byField);
          status.textContent = Object.keys(byField).length ? t('common:form.fix_errors') : errorText(err);
          fieldsForm.focusFirstError();
        } finally {
          save.disabled = !card.may_edit;
        }
      },
    }, fieldsForm.el, h('div', { class: 'form-actions' }, status, save));
    fieldsBaseline = JSON.stringify(fieldsForm.values());
    clear(details, h('h3', { id: 'deal-details-title' }, t('deal:details')),
      card.department ? h('p', { class: 'muted small' }, t('deal:department', { name: card.department.name })) : null,
      form);
  }

  // --- products: name, quantity, price, line totals and the deal's total -----------------------
  function renderProducts() {
    productsDirty = false;
    const rows = (card.deal.products || []).map((p) => ({ ...p }));
    const body = h('tbody');
    const total = h('strong', { id: 'products-total' });
    const status = h('p', { class: 'form-status', role: 'status' });
    const currency = card.deal.currency;
    const recompute = () => {
      const sum = rows.reduce((acc, p) => acc + (Number(p.qty) || 0) * (Number(p.price) || 0), 0);
      total.textContent = formatMoney(sum, currency);
      return Math.round(sum * 100) / 100;
    };
    const draw = () => {
      clear(body, rows.map((p, index) => {
        const lineTotal = h('td', { class: 'num' }, formatMoney((Number(p.qty) || 0) * (Number(p.price) || 0), currency));
        const changed = (key) => (event) => {
          p[key] = key === 'name' ? event.target.value : event.target.value === '' ? '' : Number(event.target.value);
          productsDirty = true;
          lineTotal.textContent = formatMoney((Number(p.qty) || 0) * (Number(p.price) || 0), currency);
          recompute();
        };
        return h('tr', { dataset: { index } },
          h('td', {}, h('input', { value: p.name || '', 'aria-label': t('deal:products.name'), name: `product-${index}-name`, oninput: changed('name') })),
          h('td', {}, h('input', { type: 'number', min: '0', step: 'any', class: 'qty', value: p.qty ?? 1, 'aria-label': t('deal:products.qty'), name: `product-${index}-qty`, oninput: changed('qty') })),
          h('td', {}, h('input', { type: 'number', min: '0', step: '0.01', class: 'price', value: p.price ?? '', 'aria-label': t('deal:products.price'), name: `product-${index}-price`, oninput: changed('price') })),
          lineTotal,
          h('td', {}, h('button', {
            type: 'button', class: 'icon', 'aria-label': t('deal:products.remove', { name: p.name || '' }),
            onclick: () => { rows.splice(index, 1); productsDirty = true; draw(); },
          }, '×')));
      }));
      recompute();
    };
    const add = h('button', {
      type: 'button', onclick: () => { rows.push({ name: '', qty: 1, price: 0 }); productsDirty = true; draw(); body.querySelector('tr:last-child input')?.focus(); },
    }, `+ ${t('deal:products.add')}`);
    const save = h('button', {
      type: 'button', class: 'primary', disabled: !card.may_edit,
      onclick: async () => {
        status.textContent = '';
        try {
          await api.patch(`/deals/${id}`, { version: card.deal.version, products: rows, amount: recompute() });
          await load();
          toast(t('deal:saved')); // once the card shows what was saved
        } catch (err) {
          const byField = errorsByField(err);
          const messages = Object.entries(byField).map(([path, message]) => `${productPath(path)}: ${message}`);
          status.textContent = messages.length ? messages.join('; ') : errorText(err);
        }
      },
    }, t('deal:products.save'));
    draw();
    clear(products, h('h3', { id: 'deal-products-title' }, t('deal:products.title')),
      h('table', { class: 'grid products' },
        h('thead', {}, h('tr', {}, h('th', {}, t('deal:products.name')), h('th', {}, t('deal:products.qty')),
          h('th', {}, t('deal:products.price')), h('th', { class: 'num' }, t('deal:products.sum')), h('th', {}, h('span', { class: 'visually-hidden' }, t('deal:products.actions'))))),
        body),
      h('div', { class: 'form-actions' }, add, h('span', { class: 'spacer' }), h('span', {}, `${t('deal:products.total')}: `, total), save),
      status);
  }

  function productPath(path) {
    const match = /^products\[(\d+)\]\.(\w+)$/.exec(path);
    if (!match) return path;
    return t('deal:products.row', { n: Number(match[1]) + 1, field: t(`deal:products.${match[2]}`, { defaultValue: match[2] }) });
  }

  function renderContact() {
    const { contact } = card;
    clear(client, h('h3', { id: 'deal-contact-title' }, t('deal:contact.title')),
      contact ? [
        h('p', { class: 'contact-name' }, contact.name),
        h('ul', { class: 'plain' },
          contact.phones.map((p) => h('li', {}, h('a', { href: `tel:${p.replace(/[^+\d]/g, '')}` }, p))),
          contact.emails.map((e) => h('li', {}, h('a', { href: `mailto:${e}` }, e)))),
      ] : h('p', { class: 'muted' }, t('deal:contact.none')),
      h('p', { class: 'small' }, `${t('deal:field.responsible')}: `, card.responsible ? card.responsible.name : t('deal:nobody')));
  }

  // --- run process ------------------------------------------------------------------------------
  async function loadProcesses() {
    let startable = [];
    let instances = [];
    try {
      [startable, instances] = await Promise.all([
        card.may_start ? api.get(`/deals/${id}/processes`) : Promise.resolve([]),
        api.get(`/instances?deal_id=${id}&limit=50`),
      ]);
    } catch (err) {
      toast(errorText(err), 'error');
    }
    const names = Object.fromEntries(startable.map((p) => [p.key, processName(p.key, p.name)]));
    const running = instances.filter((i) => i.status === 'running' || i.status === 'incident');
    clear(run, h('h3', { id: 'deal-processes-title' }, t('deal:run.title')),
      startable.length
        ? h('div', { class: 'button-list' }, startable.map((p) => h('button', { type: 'button', dataset: { process: p.key }, onclick: () => startForm(p) }, names[p.key])))
        : h('p', { class: 'muted' }, t('deal:run.none')),
      h('h4', {}, t('deal:run.running')),
      running.length ? h('ul', { class: 'plain instances' }, running.map((i) => instanceItem(i, names[i.key] || i.key)))
        : h('p', { class: 'muted' }, t('deal:run.no_running')));
  }

  function instanceItem(instance, name) {
    const label = `${name} — ${t(`deal:run.status.${instance.status}`, { defaultValue: instance.status })}`;
    if (card.may_monitor) {
      return h('li', { dataset: { instance: instance.id } }, h('a', { href: `#/monitoring/instance/${instance.id}` }, label));
    }
    const steps = feedItems.filter((item) => item.source === 'process' && item.data.instance_id === instance.id).slice().reverse();
    return h('li', { dataset: { instance: instance.id } }, h('details', {},
      h('summary', {}, label),
      h('ol', { class: 'steps' }, steps.map((s) => h('li', {}, stepText(s))))));
  }

  function startForm(process) {
    const name = processName(process.key, process.name);
    const params = (process.parameters || []).map((p) => ({
      name: p.name, label: processLabel(process.key, 'parameters', p.name, p.label || p.name),
      type: PARAM_TYPES[p.type] || p.type, required: p.required !== false,
    }));
    const missing = process.required_fields.filter((f) => f.missing && f.known).map((f) => ({
      name: `field:${f.name}`, label: f.label, type: f.type, options: f.options, required: true,
    }));
    const form = fieldForm([...missing, ...params], { idPrefix: 'start' });
    const intro = missing.length ? h('p', { class: 'muted' }, t('deal:run.missing_intro')) : null;
    const { dialog } = openDialog({
      title: t('deal:run.form_title', { name }),
      body: h('div', { class: 'start-form' }, intro, form.el),
      submitLabel: t('deal:run.start'),
      async onSubmit() {
        const values = form.values();
        const dealFields = {};
        const startParams = {};
        for (const [name, value] of Object.entries(values)) {
          if (name.startsWith('field:')) {
            if (value !== null && value !== '') dealFields[name.slice(6)] = value;
          } else if (value !== null && value !== '') startParams[name] = value;
        }
        try {
          // What the person filled in is saved on the deal first, so the start finds it there.
          if (Object.keys(dealFields).length) await api.patch(`/deals/${id}`, { fields: dealFields });
          await api.post(`/processes/${encodeURIComponent(process.key)}/start`, { deal_id: id, params: startParams });
        } catch (err) {
          const byField = fieldErrors(err);
          const shown = {};
          for (const [name, message] of Object.entries(byField)) {
            const asField = `field:${name}`;
            shown[missing.some((m) => m.name === asField) ? asField : name] = message;
          }
          form.showErrors(shown);
          form.focusFirstError();
          if (!Object.keys(shown).length) throw new Error(errorText(err));
          throw new Error(t('deal:run.refused'));
        }
        toast(t('deal:run.started', { name }));
        await load();
        return true;
      },
    });
    // The server judges a start (deal fields and parameters at once) and its refusal is shown on
    // the fields; the browser's own bubbles would stop at the first empty one.
    dialog.querySelector('form').noValidate = true;
  }

  // --- tasks ------------------------------------------------------------------------------------
  async function loadTasks() {
    let open = [];
    try {
      open = await api.get(`/tasks?deal_id=${id}&status=open&limit=100`);
    } catch (err) {
      toast(errorText(err), 'error');
    }
    const who = Object.fromEntries((card.responsible_options || []).map((o) => [o.value, o.label]));
    clear(tasks, h('h3', { id: 'deal-tasks-title' }, t('deal:tasks.title')),
      open.length ? h('ul', { class: 'plain task-list' }, open.map((task) => h('li', { class: 'task-item', dataset: { task: task.id } },
        h('div', {}, h('strong', {}, taskTitle(task.title)),
          h('div', { class: 'muted small' }, [
            task.assignee_id ? (who[task.assignee_id] || t('deal:tasks.someone')) : task.group ? t('deal:tasks.group', { group: t(`tasks:group.${task.group}`, { defaultValue: task.group }) }) : null,
            task.deadline ? t('deal:tasks.due', { when: formatDateTime(task.deadline) }) : null,
          ].filter(Boolean).join(' · '))),
        h('button', { type: 'button', onclick: () => completeTask(task) }, t('deal:tasks.complete')))))
        : h('p', { class: 'muted' }, t('deal:tasks.none')));
  }

  async function completeTask(task) {
    const form = task.form || [];
    if (!form.length) {
      try {
        await api.post(`/tasks/${task.id}/complete`, { result: {} });
        toast(t('deal:tasks.completed'));
        await load();
      } catch (err) {
        toast(errorText(err), 'error');
      }
      return;
    }
    const labelled = form.map((f) => ({ ...f, label: formLabel(task.element_id, f.name, f.label) }));
    const fields = fieldForm(labelled, { idPrefix: 'task' });
    const { dialog } = openDialog({
      title: taskTitle(task.title),
      body: h('div', { class: 'task-form' }, task.description ? h('p', { class: 'muted pre' }, task.description) : null, fields.el),
      submitLabel: t('deal:tasks.complete'),
      async onSubmit() {
        if (Object.keys(fields.validate()).length) {
          fields.focusFirstError();
          return false;
        }
        try {
          await api.post(`/tasks/${task.id}/complete`, { result: fields.values() });
        } catch (err) {
          const byField = fieldErrors(err);
          fields.showErrors(byField);
          if (!Object.keys(byField).length) throw new Error(errorText(err));
          throw new Error(t('common:form.fix_errors'));
        }
        toast(t('deal:tasks.completed'));
        await load();
        return true;
      },
    });
    dialog.querySelector('form').noValidate = true; // fieldForm's own checks mark the fields instead
  }

  // --- feed -------------------------------------------------------------------------------------
  async function loadFeed() {
    try {
      feedItems = await api.get(`/deals/${id}/feed?limit=${FEED_PAGE}`);
    } catch (err) {
      toast(errorText(err), 'error');
      return;
    }
    clear(feed, h('h3', { id: 'deal-feed-title' }, t('deal:feed.title')),
      feedItems.length ? h('ol', { class: 'feed' }, feedItems.map((item) => h('li', { class: `feed-item feed-${item.source}`, dataset: { source: item.source, kind: item.kind } },
        h('span', { class: 'feed-when' }, formatDateTime(item.at)),
        h('span', { class: 'feed-badge' }, t(`deal:feed.source.${item.source}`)),
        h('span', { class: 'feed-text' }, itemText(item)),
        item.reason ? h('span', { class: 'feed-reason' }, t('deal:feed.because', { reason: item.reason })) : null)))
        : h('p', { class: 'muted' }, t('deal:feed.empty')));
  }

  function stepText(item) {
    const { process, element_id: elementId } = item.data || {};
    const step = process ? processLabel(process, 'elements', elementId, item.text) : item.text;
    const name = process ? processName(process, item.who) : item.who;
    return t(`deal:feed.step.${item.kind}`, { step, process: name, defaultValue: `${step}: ${item.kind}` });
  }

  function itemText(item) {
    if (item.source === 'process') return stepText(item);
    if (item.source === 'automation') {
      return t(`deal:feed.automation.${item.data.outcome}`, { kind: t(`deal:feed.kind.${item.kind}`, { defaultValue: item.kind }), name: item.text, defaultValue: `${item.text}: ${item.data.outcome}` });
    }
    const text = timelineText(item);
    // A shipped process that did it is named in the person's language (its key is its label).
    const who = /^[a-z][a-z0-9_]*$/.test(item.who || '') ? processName(item.who, t(`deal:shipped_process.${item.who}`, { lng: 'en', defaultValue: item.who })) : item.who;
    return who && who !== 'system' ? `${text} — ${who}` : text;
  }

  const refresh = debounce(() => { if (!dirty()) load(); }, 300);
  let unwatch = null;

  return {
    el,
    async mounted() {
      unwatch = watch(`deal:${id}`, refresh); // before the first read: nothing said meanwhile is missed
      await load();
    },
    destroy() {
      release();
      if (unwatch) unwatch();
    },
  };
}
