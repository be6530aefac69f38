/**
 * Unsaved work is never lost silently. A view that holds edits the server has not seen yet
 * (the modeler's diagram, the robots text, the deal card's form) registers an `isDirty()`
 * check; the router asks `confirmLeave()` before it tears the view down, and the browser's
 * own "leave site?" dialog guards a reload or a closed tab. One guard for every view, so no
 * screen invents its own and none forgets.
 */
import { t } from './i18n.js';

const checks = new Set();

/** Register `isDirty` (returns true while there is unsaved work); call the result to unregister. */
export function guardUnsaved(isDirty) {
  checks.add(isDirty);
  return () => checks.delete(isDirty);
}

export function hasUnsavedWork() {
  for (const isDirty of checks) {
    try {
      if (isDirty()) return true;
    } catch { /* a view already torn down cannot hold work */ }
  }
  return false;
}

/** True when leaving is fine: nothing unsaved, or the person said to leave anyway. */
export function confirmLeave() {
  return !hasUnsavedWork() || window.confirm(t('common:unsaved.leave'));
}

/** Forget every registration (a new view is mounted, or the person signs out). */
export function resetUnsaved() {
  checks.clear();
}

window.addEventListener('beforeunload', (event) => {
  if (!hasUnsavedWork()) return;
  event.preventDefault();
  event.returnValue = ''; // browsers show their own sentence; this makes them ask
});
