/**
 * The person's notification feed: the bell in the top bar (unread count, kept live over the
 * `feed:<user id>` socket.io room) and the `notifications` screen that lists the feed with each
 * notification's text, time and deal, and marks one or all read. Everyone signed in has a feed.
 */
import { api } from '../api.js';
import { watch } from '../live.js';
import { h, clear, errorText, toast } from '../ui.js';
import { t, formatRelative, formatDateTime } from '../i18n.js';

const listeners = new Set(); // re-count the bell when the feed screen changes what is unread
function changed() {
  for (const fn of listeners) fn();
}

/** A bell drawn in SVG: an emoji needs a font a shop's computer may not have. */
function bellIcon() {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'bell-icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z');
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

/** The bell: a link to the feed with the unread count; live while it is in the page. */
export function bell(user) {
  const count = h('span', { class: 'bell-count', hidden: true });
  const link = h('a', { class: 'bell', href: '#/notifications', dataset: { route: 'notifications' } },
    bellIcon(), count);
  let unread = 0;
  const show = () => {
    count.textContent = unread > 99 ? '99+' : String(unread);
    count.hidden = unread === 0;
    const label = t('notifications:bell', { count: unread });
    link.setAttribute('aria-label', label);
    link.title = label;
  };
  const refresh = async () => {
    try {
      unread = (await api.get('/notifications/unread-count')).unread;
      show();
    } catch { /* the bell is a hint; the feed screen shows errors */ }
  };
  show();
  refresh();
  const stop = watch(`feed:${user.id}`, (event) => {
    if (event === 'notification') refresh();
  });
  listeners.add(refresh);
  return { el: link, destroy: () => { stop(); listeners.delete(refresh); } };
}

/** The feed screen (route `notifications`). */
export function notificationsView(_params, { user }) {
  const list = h('ul', { class: 'feed', 'aria-live': 'polite' });
  const onlyUnread = h('input', { type: 'checkbox', id: 'feed-unread' });
  const readAll = h('button', { class: 'primary', onclick: markAllRead }, t('notifications:read_all'));
  const el = h('section', { class: 'page feed-page' },
    h('div', { class: 'page-head' },
      h('h2', {}, t('notifications:title')),
      h('label', { class: 'inline', for: 'feed-unread' }, onlyUnread, t('notifications:only_unread')),
      h('span', { class: 'spacer' }),
      readAll),
    list);
  onlyUnread.addEventListener('change', load);

  async function load() {
    try {
      const items = await api.get(`/notifications?per_page=100${onlyUnread.checked ? '&unread_only=true' : ''}`);
      readAll.disabled = !items.some((n) => !n.read_at);
      if (!items.length) {
        clear(list, h('li', { class: 'empty' }, t(onlyUnread.checked ? 'notifications:none_unread' : 'notifications:none')));
        return;
      }
      clear(list, items.map(item));
    } catch (err) {
      clear(list, h('li', { class: 'error' }, errorText(err)));
    }
  }

  function item(n) {
    const read = h('button', { class: 'small', onclick: () => markRead(n) }, t('notifications:mark_read'));
    return h('li', { class: `feed-item${n.read_at ? '' : ' unread'}`, dataset: { id: n.id } },
      h('span', { class: 'feed-dot', 'aria-hidden': 'true' }),
      h('div', { class: 'feed-body' },
        h('p', { class: 'feed-text' }, n.text),
        h('p', { class: 'feed-meta' },
          h('time', { datetime: n.created_at, title: formatDateTime(n.created_at) }, formatRelative(n.created_at)),
          n.deal_id ? h('a', { href: `#/deals/${n.deal_id}` }, n.deal_title || t('notifications:the_deal')) : null,
          n.read_at ? h('span', { class: 'feed-read' }, t('notifications:read')) : h('span', { class: 'sr-only' }, t('notifications:unread')))),
      n.read_at ? null : read);
  }

  async function markRead(n) {
    try {
      await api.post(`/notifications/${n.id}/read`, {});
      changed();
      await load();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  async function markAllRead() {
    try {
      const done = await api.post('/notifications/read-all', {});
      toast(t('notifications:marked', { count: done.marked }));
      changed();
      await load();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  const stop = watch(`feed:${user.id}`, (event) => {
    if (event === 'notification') load();
  });
  load();
  return { el, destroy: stop };
}
