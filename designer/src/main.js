import './style.css';
import { api, setCsrf, whenUnauthorized } from './api.js';
import { h, clear, errorText } from './ui.js';
import { processesView } from './views/processes.js';
import { robotsView } from './views/robots.js';
import { testBenchView } from './views/testbench.js';
import { monitoringView } from './views/monitoring.js';
import { dealsView } from './views/deals.js';

const ROUTES = [
  { path: 'processes', title: 'Processes', view: processesView },
  { path: 'robots', title: 'Robots', view: robotsView },
  { path: 'testbench', title: 'Test bench', view: testBenchView },
  { path: 'monitoring', title: 'Monitoring', view: monitoringView },
  { path: 'deals', title: 'Deals', view: dealsView },
];
const DEMO_USERS = ['admin', 'designer', 'head.north', 'manager.north1', 'credit1', 'driver1'];

const root = document.getElementById('app');
let user = null;
let current = null; // the mounted view: { el, destroy? }

whenUnauthorized(() => {
  if (user) {
    user = null;
    showLogin('Your session has ended; please log in again.');
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
        error.textContent = err.status === 401 ? 'Wrong login or password.'
          : err.status === 429 ? 'Too many wrong passwords; try again in a few minutes.' : errorText(err);
      }
    },
  },
  h('h1', {}, 'dealflow'),
  h('p', { class: 'muted' }, 'Process and robot designer'),
  h('label', {}, 'Login', loginInput),
  h('label', {}, 'Password', passwordInput),
  error,
  h('button', { type: 'submit', class: 'primary' }, 'Log in'),
  h('p', { class: 'muted small' }, `Demo users: ${DEMO_USERS.join(', ')} — password “demo”.`));
  clear(root, h('div', { class: 'login-page' }, form));
  passwordInput.focus();
}

function enter(session) {
  user = session.user;
  setCsrf(session.csrf_token);
  renderShell();
  if (!location.hash || location.hash === '#/') location.hash = '#/processes'; // routes on hashchange
  else route();
}

let main;
function renderShell() {
  const nav = h('nav', { class: 'nav' }, ROUTES.map((r) => h('a', { href: `#/${r.path}`, dataset: { route: r.path } }, r.title)));
  const logout = h('button', {
    class: 'link',
    onclick: async () => {
      try { await api.post('/auth/logout', {}); } catch { /* a server without auth has nothing to end */ }
      setCsrf('');
      user = null;
      location.hash = '';
      showLogin();
    },
  }, 'Log out');
  main = h('main', { class: 'main' });
  clear(root, h('div', { class: 'shell' },
    h('header', { class: 'topbar' },
      h('span', { class: 'brand' }, 'dealflow'),
      nav,
      h('span', { class: 'user', title: (user.roles || []).join(', ') }, user.name || user.login),
      logout),
    main));
}

function teardown() {
  if (current && current.destroy) current.destroy();
  current = null;
}

function route() {
  if (!user || !main) return;
  const [path, ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  const found = ROUTES.find((r) => r.path === path) || ROUTES[0];
  document.querySelectorAll('.nav a').forEach((a) => a.classList.toggle('active', a.dataset.route === found.path));
  teardown();
  document.getElementById('toast')?.classList.add('toast-hidden');
  current = found.view(rest.map(decodeURIComponent), { user });
  clear(main, current.el);
  if (current.mounted) current.mounted();
}

window.addEventListener('hashchange', route);
boot();
