/**
 * Labels drawn in the box their diagram gave them wrap where that box ends (in the modeler and
 * in the read-only viewers of monitoring and the test bench), and a box sized
 * for another font cuts words ("Approve" / "d" under the gateway of Send to bank). After a
 * diagram is opened, every external label too narrow for its text gets the bounds bpmn-js
 * itself computes when a label is typed, centred where it was. This is how the diagram is
 * shown, not an edit: it goes past the command stack, so opening a diagram leaves nothing
 * to undo and nothing unsaved.
 */
import { getLabel } from 'bpmn-js/lib/util/LabelUtil';

/** The labels that were widened (for tests and the console); `modeler` may be a viewer too. */
export function widenCutLabels(modeler) {
  const textRenderer = modeler.get('textRenderer');
  const widened = modeler.get('elementRegistry').filter((e) => e.type === 'label' && e.labelTarget).filter((label) => {
    const text = getLabel(label.labelTarget);
    if (!text) return false;
    const fitted = textRenderer.getExternalLabelBounds(label, text);
    if (fitted.width <= label.width && fitted.height <= label.height) return false;
    const bounds = {
      x: Math.min(label.x, fitted.x), y: label.y,
      width: Math.max(label.width, fitted.width), height: Math.max(label.height, fitted.height),
    };
    Object.assign(label, bounds);
    const di = label.labelTarget.di;
    if (di && di.label && di.label.bounds) Object.assign(di.label.bounds, bounds);
    return true;
  });
  if (widened.length) modeler.get('eventBus').fire('elements.changed', { elements: widened });
  return widened.map((l) => l.labelTarget.id);
}
