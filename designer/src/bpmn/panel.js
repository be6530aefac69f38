/**
 * What the dealflow panel's entries (entries/*.js, drawn by provider.js) need from the server:
 * the vocabulary the editors complete from and the action catalog, read once per page.
 */
import { once } from '../api.js';
import { vocabulary } from '../vocabulary.js';

export { checkText } from './entries/dsl.js';

/**
 * The vocabulary the panel's editors complete from, with the actions as the action catalog
 * gives them (name, parameters), and the catalog itself.
 */
export async function editorContext() {
  const [words, actions] = await Promise.all([vocabulary(), once('/actions').catch(() => [])]);
  return { vocabulary: { ...words, actions }, actions };
}
