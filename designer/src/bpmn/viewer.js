/** A read-only diagram with the active and completed elements of an instance marked. */
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import ChangeSupportModule from 'diagram-js/lib/features/change-support';
import { dealflowModdle, spiffModdle } from './moddle.js';
import { withLayout } from './layout.js';
import { fitDiagram } from './fit.js';
import { widenCutLabels } from './labels.js';

export function createViewer(container) {
  // change support redraws the labels widened after import, as the modeler does
  const viewer = new NavigatedViewer({ container, additionalModules: [ChangeSupportModule],
    moddleExtensions: { dealflow: dealflowModdle, spiffworkflow: spiffModdle } });
  let marked = [];
  let shownXml = null;
  let destroyed = false;
  return {
    viewer,
    async show(xml, { active = [], completed = [], incidents = [] } = {}) {
      if (destroyed) return; // an answer that arrives after the page was left
      if (xml !== shownXml) {
        const laidOut = await withLayout(xml);
        if (destroyed) return;
        await viewer.importXML(laidOut);
        widenCutLabels(viewer); // "Approve" / "d" under a gateway drawn for another font
        shownXml = xml;
        fitDiagram(viewer.get('canvas'));
      }
      const canvas = viewer.get('canvas');
      const registry = viewer.get('elementRegistry');
      for (const [id, marker] of marked) canvas.removeMarker(id, marker);
      marked = [];
      const mark = (ids, marker) => ids.filter((id) => registry.get(id)).forEach((id) => {
        canvas.addMarker(id, marker);
        marked.push([id, marker]);
      });
      mark(completed.filter((id) => !active.includes(id)), 'df-completed');
      mark(active, 'df-active');
      mark(incidents, 'df-incident');
    },
    destroy() {
      destroyed = true;
      viewer.destroy();
    },
  };
}
