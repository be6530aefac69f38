/**
 * Reading and writing dealflow's extension XML on bpmn-js business objects, through
 * `modeling` so every change is undoable. The shapes written here are exactly what
 * engine/bpmn.py reads (see moddle.js).
 */
export function extensionValues(bo, type) {
  const ext = bo.get('extensionElements');
  return ext ? ext.get('values').filter((v) => v.$instanceOf(type)) : [];
}

/** Replace every extension element of `types` on `element` with `replacements`, keeping others. */
export function setExtensions(modeler, element, bo, types, replacements) {
  const moddle = modeler.get('moddle');
  const modeling = modeler.get('modeling');
  const existing = bo.get('extensionElements');
  const kept = existing ? existing.get('values').filter((v) => !types.some((t) => v.$instanceOf(t))) : [];
  const values = [...kept, ...replacements];
  const ext = moddle.create('bpmn:ExtensionElements', { values });
  values.forEach((v) => { v.$parent = ext; });
  ext.$parent = bo;
  modeling.updateModdleProperties(element, bo, { extensionElements: values.length ? ext : undefined });
}

export function readOperator(bo) {
  const [op] = extensionValues(bo, 'spiffworkflow:ServiceTaskOperator');
  if (!op) return { action: '', params: {} };
  const params = {};
  const list = op.get('parameterList');
  for (const p of list ? list.get('parameters') : []) params[p.get('id')] = p.get('value') || '';
  return { action: op.get('id') || '', params };
}

export function writeOperator(modeler, element, action, params) {
  const moddle = modeler.get('moddle');
  const bo = element.businessObject;
  const replacements = [];
  if (action) {
    const parameters = Object.entries(params)
      .filter(([, value]) => value !== undefined && value !== '')
      .map(([id, value]) => moddle.create('spiffworkflow:Parameter', { id, type: 'str', value }));
    const parameterList = moddle.create('spiffworkflow:Parameters', { parameters });
    const op = moddle.create('spiffworkflow:ServiceTaskOperator', {
      id: action, resultVariable: `${bo.id}_result`, parameterList,
    });
    replacements.push(op);
  }
  setExtensions(modeler, element, bo, ['spiffworkflow:ServiceTaskOperator'], replacements);
}

export function readProperties(bo) {
  const [props] = extensionValues(bo, 'spiffworkflow:Properties');
  const out = {};
  for (const p of props ? props.get('properties') : []) out[p.get('name')] = p.get('value') || '';
  return out;
}

export function writeProperties(modeler, element, values) {
  const moddle = modeler.get('moddle');
  const properties = Object.entries(values)
    .filter(([, value]) => value !== '')
    .map(([name, value]) => moddle.create('spiffworkflow:Property', { name, value }));
  const replacements = properties.length ? [moddle.create('spiffworkflow:Properties', { properties })] : [];
  setExtensions(modeler, element, element.businessObject, ['spiffworkflow:Properties'], replacements);
}

/** A user task's form fields (dealflow:formField), as the panel edits them. */
export function readFormFields(bo) {
  return extensionValues(bo, 'dealflow:FormField').map((f) => ({
    name: f.get('name') || '', label: f.get('label') || '', type: f.get('type') || 'string',
    required: (f.get('required') || 'true') !== 'false', options: f.get('options') || '',
  }));
}

export function writeFormFields(modeler, element, fields) {
  const moddle = modeler.get('moddle');
  const replacements = fields.map((f) => moddle.create('dealflow:FormField', {
    name: f.name, label: f.label || undefined, type: f.type, required: f.required ? 'true' : 'false',
    options: f.type === 'enum' && f.options ? f.options : undefined,
  }));
  setExtensions(modeler, element, element.businessObject, ['dealflow:FormField'], replacements);
}

export function readProcessSettings(processBo) {
  return {
    parameters: extensionValues(processBo, 'dealflow:Parameter').map((p) => ({
      name: p.get('name') || '', type: p.get('type') || 'string', label: p.get('label') || '',
      required: (p.get('required') || 'true') !== 'false',
    })),
    requiredFields: extensionValues(processBo, 'dealflow:RequiredField').map((f) => ({
      name: f.get('name') || '', label: f.get('label') || '',
    })),
  };
}

export function writeProcessSettings(modeler, element, processBo, { parameters, requiredFields }) {
  const moddle = modeler.get('moddle');
  const replacements = [
    ...parameters.map((p) => moddle.create('dealflow:Parameter', {
      name: p.name, type: p.type, label: p.label || undefined, required: p.required ? 'true' : 'false',
    })),
    ...requiredFields.map((f) => moddle.create('dealflow:RequiredField', { name: f.name, label: f.label || undefined })),
  ];
  setExtensions(modeler, element, processBo, ['dealflow:Parameter', 'dealflow:RequiredField'], replacements);
}

export function eventDefinition(bo, type) {
  return (bo.get('eventDefinitions') || []).find((d) => d.$instanceOf(type));
}

export const TIMER_KINDS = { timeDuration: 'after a duration', timeDate: 'at a date', timeCycle: 'repeatedly (cycle)' };

export function readTimer(definition) {
  for (const kind of Object.keys(TIMER_KINDS)) {
    const expr = definition.get(kind);
    if (expr) return { kind, text: expr.get('body') || '' };
  }
  return { kind: 'timeDuration', text: '' };
}

export function writeTimer(modeler, element, definition, kind, text) {
  const moddle = modeler.get('moddle');
  const props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
  props[kind] = moddle.create('bpmn:FormalExpression', { body: text });
  modeler.get('modeling').updateModdleProperties(element, definition, props);
}

/** The message named `name` in the definitions, created when the diagram has none yet. */
export function messageNamed(modeler, name) {
  const definitions = modeler.getDefinitions();
  const roots = definitions.get('rootElements');
  let message = roots.find((r) => r.$instanceOf('bpmn:Message') && r.get('name') === name);
  if (!message) {
    const id = `msg_${name.replace(/[^A-Za-z0-9]/g, '_')}`;
    message = modeler.get('moddle').create('bpmn:Message', { id, name });
    message.$parent = definitions;
    roots.unshift(message);
  }
  return message;
}

export function conditionOf(bo) {
  const expr = bo.get('conditionExpression');
  return expr ? expr.get('body') || '' : '';
}

export function writeCondition(modeler, element, text) {
  const moddle = modeler.get('moddle');
  const conditionExpression = text.trim() ? moddle.create('bpmn:FormalExpression', { body: text }) : undefined;
  modeler.get('modeling').updateProperties(element, { conditionExpression });
}
