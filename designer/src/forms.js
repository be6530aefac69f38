/**
 * One form renderer for every typed form of the app: a process's start form, a stage gate's
 * missing fields, a user task's form, a deal's custom fields. A field is what the server
 * declares (`crm.models.FIELD_TYPES` plus `text`):
 *   { name, label, type: string|text|number|money|date|datetime|bool|enum|user, required, options, value }
 * `options` is a list of values or of { value, label } (enum, user). The server's refusal puts
 * its messages on the fields they name (`showErrors`), not in a toast, so a person sees at
 * once what to fill in.
 */
import { h } from './ui.js';
import { t } from './i18n.js';

let seq = 0;

function optionList(field) {
  return (field.options || []).map((o) => (o !== null && typeof o === 'object' ? o : { value: o, label: String(o) }));
}

function toLocalDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function inputFor(field, id) {
  const common = { id, name: field.name, required: !!field.required, 'aria-describedby': `${id}-error` };
  const value = field.value ?? '';
  switch (field.type) {
    case 'text':
      return h('textarea', { ...common, rows: 3, value });
    case 'number':
      return h('input', { ...common, type: 'number', step: 'any', value });
    case 'money':
      return h('input', { ...common, type: 'number', step: '0.01', min: '0', inputmode: 'decimal', value });
    case 'date':
      return h('input', { ...common, type: 'date', value: String(value).slice(0, 10) });
    case 'datetime':
      return h('input', { ...common, type: 'datetime-local', value: toLocalDateTime(value) });
    case 'bool':
      return h('input', { ...common, type: 'checkbox', required: false, checked: value === true || value === 'true' });
    case 'enum':
    case 'user':
      return h('select', common,
        h('option', { value: '' }, t('common:form.choose')),
        optionList(field).map((o) => h('option', { value: String(o.value), selected: String(o.value) === String(value) }, o.label)));
    default:
      return h('input', { ...common, type: 'text', value });
  }
}

function readValue(field, input) {
  const raw = input.type === 'checkbox' ? input.checked : input.value;
  if (field.type === 'bool') return raw;
  if (raw === '') return null;
  switch (field.type) {
    case 'number':
    case 'money':
      return Number(raw);
    case 'datetime':
      return new Date(raw).toISOString();
    case 'user': {
      const match = optionList(field).find((o) => String(o.value) === raw);
      return match ? match.value : raw;
    }
    default:
      return raw;
  }
}

/**
 * A form for `fields`: `{ el, values(), validate(), showErrors(byName), focusFirstError() }`.
 * `values()` gives typed values (numbers, booleans, ISO datetimes, null for empty).
 */
export function fieldForm(fields, { idPrefix = 'field' } = {}) {
  const rows = fields.map((field) => {
    const id = `${idPrefix}-${++seq}-${field.name}`;
    const input = inputFor(field, id);
    const error = h('span', { class: 'field-error', id: `${id}-error`, role: 'alert' });
    const label = h('label', { for: id }, field.label || field.name, field.required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : null);
    const row = h('div', { class: `form-row form-row-${field.type || 'string'}`, dataset: { field: field.name } },
      field.type === 'bool' ? [input, label] : [label, input], error);
    return { field, input, error, row };
  });

  function showErrors(byName = {}) {
    for (const r of rows) {
      const message = byName[r.field.name];
      r.error.textContent = message || '';
      r.row.classList.toggle('invalid', !!message);
      if (message) r.input.setAttribute('aria-invalid', 'true');
      else r.input.removeAttribute('aria-invalid');
    }
  }

  return {
    el: h('div', { class: 'field-form' }, rows.map((r) => r.row)),
    values() {
      return Object.fromEntries(rows.map((r) => [r.field.name, readValue(r.field, r.input)]));
    },
    /** Client-side checks (required, numbers); returns the errors by field name, shown on the form. */
    validate() {
      const errors = {};
      for (const r of rows) {
        const value = readValue(r.field, r.input);
        if (r.field.required && r.field.type !== 'bool' && (value === null || value === '')) errors[r.field.name] = t('common:form.required');
        else if (typeof value === 'number' && Number.isNaN(value)) errors[r.field.name] = t('common:form.number');
      }
      showErrors(errors);
      return errors;
    },
    showErrors,
    focusFirstError() {
      rows.find((r) => r.row.classList.contains('invalid'))?.input.focus();
    },
    get dirty() {
      return rows.some((r) => String(readValue(r.field, r.input) ?? '') !== String(r.field.value ?? (r.field.type === 'bool' ? false : '')));
    },
  };
}

/**
 * A modal dialog (native <dialog>: focus trap, Esc to close). `onSubmit` returns true (or a
 * promise of it) to close; anything else keeps the dialog open, e.g. to show the server's errors.
 */
export function openDialog({ title, body, submitLabel = t('common:form.save'), onSubmit, onClose }) {
  const form = h('form', { method: 'dialog', class: 'dialog-form' });
  const status = h('p', { class: 'dialog-status', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const cancel = h('button', { type: 'button', onclick: () => close() }, t('common:form.cancel'));
  form.append(h('h2', {}, title), body, status, h('div', { class: 'dialog-actions' }, cancel, submit));
  const dialog = h('dialog', { class: 'dialog', 'aria-label': title }, form);
  function close() {
    dialog.close();
    dialog.remove();
    if (onClose) onClose();
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    submit.disabled = true;
    try {
      if ((await onSubmit()) === true) close();
    } catch (err) {
      status.textContent = err.message || String(err);
    } finally {
      submit.disabled = false;
    }
  });
  dialog.addEventListener('cancel', (event) => { event.preventDefault(); close(); });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, close, status };
}

/** The server's 422 details as messages by field name, whatever shape a refusal used. */
export function errorsByField(err) {
  const body = (err && err.body) || {};
  const out = {};
  const details = body.details;
  const missing = (details && (details.missing || details.missing_fields)) || body.missing;
  if (Array.isArray(missing)) {
    for (const m of missing) out[typeof m === 'string' ? m : m.name || m.code || m.field] = t('common:form.required');
  }
  if (details && typeof details === 'object' && !Array.isArray(details)) {
    const known = ['json', 'invalid_parameters', 'fields', 'missing', 'missing_fields'];
    // The CRM's InvalidInput answers its fields flat: {"bank": "must be text"}.
    const flat = Object.fromEntries(Object.entries(details).filter(([k, v]) => !known.includes(k) && typeof v === 'string'));
    const byName = { ...flat, ...(details.json || {}), ...(details.invalid_parameters || {}), ...(details.fields || {}) };
    for (const [name, value] of Object.entries(byName)) {
      out[name] = Array.isArray(value) ? value.join(' ') : typeof value === 'string' ? value : JSON.stringify(value);
    }
  }
  if (Array.isArray(details)) {
    for (const d of details) if (d && d.field) out[d.field] = d.message || t('common:form.required');
  }
  return out;
}
