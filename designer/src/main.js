import './style.css';
import { api, setCsrf, whenUnauthorized } from './api.js';
import { h, clear, errorText } from './ui.js';
import { t, onLanguageChanged, setLanguage, languageReady } from './i18n.js';
import { menuRoutes, findRoute, homeFor, mayOpen } from './routes.js';
import { confirmLeave, hasUnsavedWork, resetUnsaved } from './unsaved.js';
import { bell } from './shell/notifications.js';
import { languageSwitcher } from './shell/language.js';

const DEMO_USERS = ['admin', 'designer', 'head.north', 'manager.north1', 'logist1', 'driver1', 'purchaser1'];

const root = document.getElementById('app');
let user = null;
let current = null; // the mounted view: { el, destroy? }
let currentHash = ''; // the hash of the mounted view, to go back to when leaving is cancelled
let tools = []; // the top bar's live parts (the bell), destroyed when the shell is re-rendered

whenUnauthorized(() => {
  if (user) {
    user = null;
    showLogin(t('common:login.expired'));
  }
});

async function boot() {
  await languageReady; // the first screen is drawn in the person's language, not redrawn into it
  try {
    const me = await api.get('/auth/me');
    await enter(me);
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
        await enter(await api.post('/auth/login', credentials));
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

/** Sign-in lands on the link the person was following, if they may open it, else on their own work.
 * The person's stored language applies first, so the first screen is already in it. */
async function enter(session) {
  user = null; // no re-render for the language switch below: the shell is drawn next
  if (session.user.language) {
    try {
      await setLanguage(session.user.language);
    } catch { /* its catalogs could not be fetched: the app stays in the language it has */ }
  }
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
  const routes = menuRoutes(user);
  const link = (r) => h('a', { href: `#/${r.path}`, dataset: { route: r.path } }, t(r.titleKey));
  const work = routes.filter((r) => r.section === 'work').map(link);
  const design = routes.filter((r) => r.section === 'design').map(link);
  const nav = h('nav', { class: 'nav', 'aria-label': t('common:nav.label') },
    work, work.length && design.length ? h('span', { class: 'nav-divider', 'aria-hidden': 'true' }) : null, design);
  const logout = h('button', {
    class: 'link',
    onclick: async () => {
      if (!confirmLeave()) return;
      resetUnsaved();
      try { await api.post('/auth/logout', {}); } catch { /* a server without auth has nothing to end */ }
      setCsrf('');
      user = null;
      location.hash = '';
      showLogin();
    },
  }, t('common:nav.logout'));
  main = h('main', { class: 'main', id: 'main' });
  for (const tool of tools) tool.destroy();
  const feedBell = bell(user);
  tools = [feedBell];
  clear(root, h('div', { class: 'shell' },
    h('header', { class: 'topbar' },
      h('span', { class: 'brand' }, 'dealflow'),
      nav,
      h('span', { class: 'topbar-tools', id: 'topbar-tools' }, feedBell.el, languageSwitcher()),
      h('span', { class: 'user', title: (user.roles || []).map((r) => t(`common:roles.${r}`)).join(', ') }, user.name || user.login),
      logout),
    main));
}

function teardown() {
  if (current && current.destroy) current.destroy();
  current = null;
  resetUnsaved();
  if (!user) {
    for (const tool of tools) tool.destroy();
    tools = [];
  }
}

let routing = 0; // counts route() calls: a screen whose chunk arrives after the next one was asked for is dropped

async function route() {
  if (!user || !main) return;
  if (current && location.hash !== currentHash) {
    if (!confirmLeave()) {
      history.replaceState(null, '', currentHash || '#/'); // stay, without another hashchange
      return;
    }
    resetUnsaved(); // the person chose to leave: a redirect below must not ask again
  }
  const mine = ++routing;
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
  markActive(found.path);
  teardown();
  currentHash = location.hash;
  document.getElementById('toast')?.classList.add('toast-hidden');
  clear(main); // the screen left is destroyed: nothing of it stays clickable while the next one loads
  let view;
  try {
    view = await found.view(); // the screen's chunk, fetched the first time it is opened
  } catch (err) {
    if (mine === routing) clear(main, h('p', { class: 'empty', role: 'alert' }, t('common:nav.load_failed', { reason: errorText(err) })));
    return;
  }
  if (mine !== routing || !user || !main) return; // another screen was asked for meanwhile
  current = view(rest.map(decodeURIComponent), { user });
  clear(main, current.el);
  if (current.mounted) current.mounted();
}

function markActive(path) {
  document.querySelectorAll('.nav a, .topbar-tools a').forEach((a) => {
    const active = a.dataset.route === path;
    a.classList.toggle('active', active);
    if (active) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
}

/** A new language re-renders the shell and the screen; a screen with unsaved work is kept as it is
 * (its edits matter more than its labels) and speaks the new language once it is left. */
onLanguageChanged(() => {
  if (!user) return;
  if (current && hasUnsavedWork()) {
    renderShell();
    clear(main, current.el);
    markActive(findRoute(currentHash.replace(/^#\/?/, '').split('/')[0])?.path);
    return;
  }
  renderShell();
  route(); // the same hash: the screen is drawn again without a "leave?" question
});
window.addEventListener('hashchange', route);
boot();
