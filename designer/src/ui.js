/** Small DOM helpers so views stay readable without a framework. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'value') el.value = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  for (const child of children.flat(Infinity)) if (child) el.append(child);
  return el;
}

let toastTimer;
export function toast(message, kind = 'info') {
  let el = document.getElementById('toast');
  if (!el) {
    el = h('div', { id: 'toast', role: 'status' });
    document.body.append(el);
  }
  el.className = `toast toast-${kind}`;
  el.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.add('toast-hidden'), kind === 'error' ? 8000 : 3500);
}

export function errorText(err) {
  const body = err && err.body;
  if (body && Array.isArray(body.details) && body.details.length) {
    return `${body.message}: ${body.details.map((d) => d.message || JSON.stringify(d)).join('; ')}`;
  }
  if (body && body.details && typeof body.details === 'object') {
    return `${body.message}: ${JSON.stringify(body.details)}`;
  }
  return (err && err.message) || String(err);
}

export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export function table(columns, rows, { onRowClick, empty = 'Nothing here yet.' } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h('table', { class: 'grid' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, c.title)))),
    h('tbody', {}, rows.map((row) => h('tr', {
      class: onRowClick ? 'clickable' : '',
      onclick: onRowClick ? () => onRowClick(row) : undefined,
      dataset: { id: row.id ?? '' },
    }, columns.map((c) => h('td', {}, c.render ? c.render(row) : row[c.key] ?? ''))))));
}

/** Save `text` as a file the browser downloads. */
export function download(name, text, type = 'text/plain') {
  const a = h('a', { href: URL.createObjectURL(new Blob([text], { type })), download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
