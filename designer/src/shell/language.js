/**
 * The language switcher of the top bar. The choice is stored on the user (PATCH /auth/me), so
 * the next sign-in, on any computer, opens in it; the app re-renders at once, without a reload.
 */
import { api } from '../api.js';
import { h, errorText, toast } from '../ui.js';
import { t, LANGUAGES, language, setLanguage } from '../i18n.js';

export function languageSwitcher() {
  const select = h('select', { class: 'language', 'aria-label': t('common:language.label'), title: t('common:language.label') },
    LANGUAGES.map((l) => h('option', { value: l.code, lang: l.code, selected: l.code === language() }, l.name)));
  select.addEventListener('change', async () => {
    const wanted = select.value;
    try {
      await api.patch('/auth/me', { language: wanted });
      await setLanguage(wanted);
    } catch (err) {
      select.value = language();
      toast(errorText(err), 'error');
    }
  });
  return select;
}
