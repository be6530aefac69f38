// Every catalog of one language, as one chunk: fetched by i18n.js when the language is chosen.
export default import.meta.glob('./ru/*.json', { eager: true, import: 'default' });
