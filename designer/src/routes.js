/**
 * The app's screens, in menu order, and who may open each. A route is shown in the menu only
 * to people who hold its permission (one of `permissions` from `GET /auth/me`, see
 * crm/access.py) or one of its roles, so the menu never offers what the server would refuse.
 * `section` splits the menu into the store's work and the designer's tools; designers and
 * administrators see both. `menu: false` keeps a screen out of the menu (the feed has its bell). Add a screen here and nowhere else.
 */
import { notificationsView } from './shell/notifications.js';

// Each screen is a chunk of its own, fetched when it is first opened: the deals board never
// downloads bpmn-js (the modeler, monitoring and the test bench draw diagrams) or CodeMirror
// (the robots editor, the modeler's panel), which are most of the app's code (issue 14).
// `view` resolves to the screen's function; main.js awaits it before drawing.
const lazy = (load, name) => () => load().then((module) => module[name]);
const ready = (view) => () => Promise.resolve(view);

export const ROUTES = [
  // `board` is the pipeline main; `board/<pipeline>` any other (views/board.js).
  { path: 'board', titleKey: 'board:title', view: lazy(() => import('./views/board.js'), 'boardView'), section: 'work',
    roles: ['administrator', 'director', 'head', 'manager'] },
  { path: 'deals', titleKey: 'common:nav.deals', view: lazy(() => import('./views/deals.js'), 'dealsView'), section: 'work',
    roles: ['administrator', 'director', 'designer', 'head', 'manager'] },
  // `tasks` is my tasks, `tasks/<group>` a group's board (its tabs show the boards one may watch).
  { path: 'tasks', titleKey: 'tasks:nav', view: lazy(() => import('./views/tasks.js'), 'tasksView'), section: 'work', permission: 'work_tasks' },
  { path: 'driver', titleKey: 'driver:nav', view: lazy(() => import('./views/driver.js'), 'driverView'), section: 'work', roles: ['driver'] },
  { path: 'processes', titleKey: 'common:nav.processes', view: lazy(() => import('./views/processes.js'), 'processesView'), section: 'design', permission: 'edit_processes' },
  // dmn-js is imported by the screen itself, when it opens (views/decisions.js).
  { path: 'decisions', titleKey: 'common:nav.decisions', view: lazy(() => import('./views/decisions.js'), 'decisionsView'), section: 'design', permission: 'edit_processes' },
  { path: 'robots', titleKey: 'common:nav.robots', view: lazy(() => import('./views/robots.js'), 'robotsView'), section: 'design', permission: 'edit_robots' },
  { path: 'testbench', titleKey: 'common:nav.testbench', view: lazy(() => import('./views/testbench.js'), 'testBenchView'), section: 'design', permission: 'run_test_bench' },
  { path: 'monitoring', titleKey: 'common:nav.monitoring', view: lazy(() => import('./views/monitoring.js'), 'monitoringView'), section: 'design', permission: 'read_automation' },
  // Everyone has a feed; it is opened from the bell in the top bar, not from the menu.
  { path: 'notifications', titleKey: 'common:nav.notifications', view: ready(notificationsView), section: 'work', menu: false },
];

/** Where each role starts its day, first match wins (SCENARIOS.md, "Who works here, and where"). */
const HOME_BY_ROLE = [
  ['designer', 'processes'],
  ['driver', 'driver'],
  ['logistician', 'tasks/logistics'],
  ['purchaser', 'tasks/purchasing'],
  ['manager', 'board'],
  ['head', 'board'],
  ['director', 'board'],
  ['administrator', 'board'],
];

export function mayOpen(route, user) {
  if (!user) return false;
  if (route.roles && route.roles.some((r) => (user.roles || []).includes(r))) return true;
  if (route.permission) return (user.permissions || []).includes(route.permission);
  return !route.roles;
}

export function visibleRoutes(user) {
  return ROUTES.filter((r) => mayOpen(r, user));
}

/** The routes the menu lists: those the person may open, less those reached another way (the bell). */
export function menuRoutes(user) {
  return visibleRoutes(user).filter((r) => r.menu !== false);
}

export function findRoute(path) {
  return ROUTES.find((r) => r.path === path);
}

/** The hash path a person lands on after sign-in: their own work, or the first screen they may open. */
export function homeFor(user) {
  for (const [role, path] of HOME_BY_ROLE) {
    if (!(user.roles || []).includes(role)) continue;
    const route = findRoute(path.split('/')[0]);
    if (route && mayOpen(route, user)) return path;
  }
  const first = visibleRoutes(user)[0];
  return first ? first.path : '';
}
