import './style.css';
import { api, setCsrf, whenUnauthorized } from './api.js';
import { h, clear, errorText } from './ui.js';
import { t, onLanguageChanged } from './i18n.js';
import { visibleRoutes, findRoute, homeFor, mayOpen } from './routes.js';

const DEMO_USERS = ['admin', 'designer', 'head.north', 'manager.north1', 'logist1', 'driver1', 'purchaser1'];

const root = document.getElementById('app');
let user = null;
let current = null; // the mounted view: { el, destroy? }

whenUnauthorized(() => {
  if (user) {
    user = null;
    showLogin(t('common:login.expired'));
  }
});

async function boot() {
  try {
    const me = await api.get('/auth/me');
    enter(me);
  } catch (err) {
    showLogin(err.status === 401 ? '' : errorText(err));
  }
}

function showLogin(message = '') {
  teardown();
  const error = h('p', { class: 'login-error', role: 'alert' }, message);
  const loginInput = h('input', { name: 'login', autocomplete: 'username', required: true, value: 'designer' });
  const passwordInput = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const form = h('form', {
    class: 'login-card',
    onsubmit: async (event) => {
      event.preventDefault();
      error.textContent = '';
      const credentials = { login: loginInput.value.trim(), password: passwordInput.value };
      try {
        enter(await api.post('/auth/login', credentials));
      } catch (err) {
        error.textContent = err.status === 401 ? t('common:login.wrong')
          : err.status === 429 ? t('common:login.locked') : errorText(err);
      }
    },
  },
  h('h1', {}, 'dealflow'),
  h('p', { class: 'muted' }, t('common:login.tagline')),
  h('label', {}, t('common:login.login'), loginInput),
  h('label', {}, t('common:login.password'), passwordInput),
  error,
  h('button', { type: 'submit', class: 'primary' }, t('common:login.submit')),
  h('p', { class: 'muted small' }, t('common:login.demo', { users: DEMO_USERS.join(', ') })));
  clear(root, h('main', { class: 'login-page' }, form));
  passwordInput.focus();
}

/** Sign-in lands on the link the person was following, if they may open it, else on their own work. */
function enter(session) {
  user = session.user;
  setCsrf(session.csrf_token);
  renderShell();
  const [path] = location.hash.replace(/^#\/?/, '').split('/');
  const wanted = findRoute(path);
  if (wanted && mayOpen(wanted, user)) route();
  else location.hash = `#/${homeFor(user)}`; // routes on hashchange
}

let main;
function renderShell() {
  const routes = visibleRoutes(user);
  const link = (r) => h('a', { href: `#/${r.path}`, dataset: { route: r.path } }, t(r.titleKey));
  const work = routes.filter((r) => r.section === 'work').map(link);
  const design = routes.filter((r) => r.section === 'design').map(link);
  const nav = h('nav', { class: 'nav', 'aria-label': t('common:nav.label') },
    work, work.length && design.length ? h('span', { class: 'nav-divider', 'aria-hidden': 'true' }) : null, design);
  const logout = h('button', {
    class: 'link',
    onclick: async () => {
      try { await api.post('/auth/logout', {}); } catch { /* a server without auth has nothing to end */ }
      setCsrf('');
      user = null;
      location.hash = '';
      showLogin();
    },
  }, t('common:nav.logout'));
  main = h('main', { class: 'main', id: 'main' });
  clear(root, h('div', { class: 'shell' },
    h('header', { class: 'topbar' },
      h('span', { class: 'brand' }, 'dealflow'),
      nav,
      h('span', { class: 'topbar-tools', id: 'topbar-tools' }),
      h('span', { class: 'user', title: (user.roles || []).join(', ') }, user.name || user.login),
      logout),
    main));
}

function teardown() {
  if (current && current.destroy) current.destroy();
  current = null;
}

let shownHash = location.hash;
function route() {
  if (!user || !main) return;
  // A view with unsaved edits may keep the person (views/deal.js canLeave; shared unsaved.js later).
  if (current && current.canLeave && location.hash !== shownHash && !current.canLeave()) {
    history.replaceState(null, '', shownHash);
    return;
  }
  shownHash = location.hash;
  const [path, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const found = findRoute(path);
  if (!found || !mayOpen(found, user)) {
    const home = homeFor(user);
    if (home) location.hash = `#/${home}`;
    else {
      if (path) location.hash = '#/';
      teardown();
      clear(main, h('p', { class: 'empty' }, t('common:nav.nothing')));
    }
    return;
  }
  document.querySelectorAll('.nav a').forEach((a) => a.classList.toggle('active', a.dataset.route === found.path));
  teardown();
  document.getElementById('toast')?.classList.add('toast-hidden');
  current = found.view(rest.map(decodeURIComponent), { user });
  clear(main, current.el);
  if (current.mounted) current.mounted();
}

onLanguageChanged(() => {
  if (!user) return;
  renderShell();
  route();
});
window.addEventListener('hashchange', route);
boot();
