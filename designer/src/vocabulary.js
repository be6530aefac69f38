/**
 * The DSL's vocabulary (`GET /dsl/vocabulary`: stages, fields, events, actions) that editors
 * complete from and forms pick fields from, fetched once per page. A module of its own so the
 * robots editor and the test bench can have it without the modeler's panel (and bpmn-js's
 * model helpers) coming along in their chunks.
 */
import { once } from './api.js';

export function vocabulary() {
  return once('/dsl/vocabulary').catch(() => ({ stages: {}, fields: {}, events: {}, actions: [] }));
}
