/**
 * bpmn-js and dmn-js draw their own controls (palette, context pad, popup menus, table headers,
 * "Add rule", hit policy names) through one `translate(template, replacements)` service, in
 * English. This module replaces that service, the way diagram-js documents overriding it, so the
 * editors speak the person's language like the rest of the app. The catalog keys are the
 * library's own English templates (`locales/<lang>/<namespace>.json`); a template the catalog
 * does not know (a string added by a newer library version) stays in English rather than
 * showing a key. The editor is drawn again when the language changes, so the lookup is made
 * at each call, never cached.
 */
import i18next from 'i18next';

/** `{name}` holes, as diagram-js writes them (dmn-js sometimes pads them: `{ sample }`). */
const HOLE = /{\s*([^}\s]+)\s*}/g;

/** The translate function for one namespace: exported for the unit tests. */
export function translateIn(namespace) {
  return function translate(template, replacements = {}) {
    const text = i18next.t(template, {
      ns: namespace,
      keySeparator: false,
      nsSeparator: false,
      defaultValue: template,
      interpolation: { skipOnVariables: true },
      skipInterpolation: true,
    });
    return text.replace(HOLE, (hole, key) => (key in replacements ? String(replacements[key]) : hole));
  };
}

/** A diagram-js module overriding `translate`: pass it in `additionalModules`. */
export function translateModule(namespace) {
  return { translate: ['value', translateIn(namespace)] };
}
