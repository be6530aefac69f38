/**
 * Fit the diagram into the canvas, leaving room on the left for the palette (in the modeler)
 * so nothing is drawn under it; never zoom in past 100%.
 */
export function fitDiagram(canvas, { left = 24, pad = 24 } = {}) {
  const { inner, outer } = canvas.viewbox();
  if (!inner.width || !inner.height || !outer.width || !outer.height) return;
  const room = { width: outer.width - left - pad, height: outer.height - 2 * pad };
  const scale = Math.min(1, room.width / inner.width, room.height / inner.height);
  const width = outer.width / scale;
  const height = outer.height / scale;
  const x = inner.x - left / scale - (room.width / scale - inner.width) / 2;
  const y = inner.y - pad / scale - (room.height / scale - inner.height) / 2;
  canvas.viewbox({ x, y, width, height });
}
