/**
 * Diagrams without layout (written by hand, by scripts or by tools that keep no DI) get one
 * made by bpmn-auto-layout; diagrams with layout keep theirs untouched.
 */
import { layoutProcess } from 'bpmn-auto-layout';

export async function withLayout(xml) {
  if (/<(?:[\w-]+:)?BPMNShape\b/.test(xml)) return xml;
  return layoutProcess(xml);
}
