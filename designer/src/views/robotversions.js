/**
 * A scope's saved robots texts: every version with who saved it and when, and what changed
 * between any two (the server's unified diff of GET /robots/{scope}/diff).
 */
import { api } from '../api.js';
import { h, clear, toast, errorText } from '../ui.js';
import { t, formatDateTime } from '../i18n.js';
import { openDialog } from '../forms.js';

export async function openVersions(scope) {
  let versions;
  try {
    versions = await api.get(`/robots/${encodeURIComponent(scope)}/versions`);
  } catch (err) {
    toast(errorText(err), 'error');
    return null;
  }
  const label = (v) => t('robots:version_label', { version: v.version, when: formatDateTime(v.saved_at), who: v.saved_by || '—' });
  const pick = (name, selected) => h('select', { name, 'aria-label': t(`robots:diff_${name}`) },
    versions.map((v) => h('option', { value: v.version, selected: v.version === selected }, label(v))));
  const from = pick('from', versions[1] ? versions[1].version : versions[0] && versions[0].version);
  const to = pick('to', versions[0] && versions[0].version);
  const out = h('pre', { class: 'robots-diff', id: 'robots-diff', tabindex: '0' });
  async function compare() {
    if (!versions.length) return;
    try {
      const diff = await api.get(`/robots/${encodeURIComponent(scope)}/diff?from=${from.value}&to=${to.value}`);
      const lines = diff.lines.filter((line) => !line.startsWith('---') && !line.startsWith('+++'));
      clear(out, lines.length ? lines.map((line) => h('div', {
        class: line.startsWith('+') ? 'rdiff-add' : line.startsWith('-') ? 'rdiff-del' : line.startsWith('@@') ? 'rdiff-hunk' : 'rdiff-same',
      }, line)) : h('div', { class: 'muted' }, t('robots:no_changes')));
    } catch (err) {
      clear(out, errorText(err));
    }
  }
  from.addEventListener('change', compare);
  to.addEventListener('change', compare);
  const body = versions.length
    ? h('div', { class: 'robots-versions' },
      h('div', { class: 'robots-versions-pick' }, h('label', {}, t('robots:diff_from'), ' ', from), h('label', {}, t('robots:diff_to'), ' ', to)),
      out)
    : h('p', { class: 'muted' }, t('robots:no_versions'));
  const dialog = openDialog({ title: t('robots:versions_title', { scope }), body, submitLabel: t('robots:close'), onSubmit: () => true });
  dialog.dialog.classList.add('dialog-wide');
  dialog.dialog.querySelector('.dialog-actions button[type=button]').hidden = true; // Close says it all
  await compare();
  return dialog;
}
