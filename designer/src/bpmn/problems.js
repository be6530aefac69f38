/**
 * Errors shown on the diagram: a red outline and a badge with the messages on each element
 * that has a problem, from the as-you-type checks, Validate and a refused deploy alike.
 */
export function createProblems(modeler, onChange = () => {}) {
  const byElement = new Map(); // element id -> Map(field -> message)

  function draw(id) {
    const overlays = modeler.get('overlays');
    const canvas = modeler.get('canvas');
    const registry = modeler.get('elementRegistry');
    overlays.remove({ element: id, type: 'df-error' });
    const shape = registry.get(id);
    if (!shape) return;
    const messages = [...(byElement.get(id) || new Map()).values()];
    if (messages.length) {
      canvas.addMarker(id, 'df-has-error');
      const badge = document.createElement('div');
      badge.className = 'df-error-badge';
      badge.dataset.element = id;
      badge.title = messages.join('\n');
      badge.textContent = `⚠ ${messages[0]}${messages.length > 1 ? ` (+${messages.length - 1})` : ''}`;
      const position = shape.waypoints ? { top: -9, left: -9 } : { top: -9, right: 11 };
      overlays.add(id, 'df-error', { position, html: badge });
    } else {
      canvas.removeMarker(id, 'df-has-error');
    }
  }

  return {
    set(id, field, message) {
      const fields = byElement.get(id) || new Map();
      if (message) fields.set(field, message);
      else fields.delete(field);
      if (fields.size) byElement.set(id, fields);
      else byElement.delete(id);
      draw(id);
      onChange(this.list());
    },
    clear(field) {
      for (const [id, fields] of byElement) {
        if (field === undefined) fields.clear();
        else fields.delete(field);
        if (!fields.size) byElement.delete(id);
        draw(id);
      }
      onChange(this.list());
    },
    reset() {
      byElement.clear();
      onChange([]);
    },
    list() {
      return [...byElement.entries()].flatMap(([id, fields]) => [...fields.values()].map((message) => ({ id, message })));
    },
  };
}
