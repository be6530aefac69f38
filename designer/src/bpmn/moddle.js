/**
 * Moddle descriptors for the extension XML the server reads (engine/bpmn.py):
 * dealflow:parameter / dealflow:requiredField on the process, dealflow:formField on a user task
 * (its form: name, label, type, required, options as "a,b"), and SpiffWorkflow's
 * serviceTaskOperator (action + parameters) and properties (user-task properties).
 * Element names must match the server exactly; tests/designer round-trips the shipped files.
 */
export const dealflowModdle = {
  name: 'dealflow',
  prefix: 'dealflow',
  uri: 'https://dealflow.dev/schema/bpmn',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    {
      name: 'Parameter',
      superClass: ['Element'],
      meta: { allowedIn: ['bpmn:Process'] },
      properties: [
        { name: 'name', type: 'String', isAttr: true },
        { name: 'type', type: 'String', isAttr: true },
        { name: 'label', type: 'String', isAttr: true },
        { name: 'required', type: 'String', isAttr: true },
      ],
    },
    {
      name: 'FormField',
      superClass: ['Element'],
      meta: { allowedIn: ['bpmn:UserTask', 'bpmn:ManualTask'] },
      properties: [
        { name: 'name', type: 'String', isAttr: true },
        { name: 'label', type: 'String', isAttr: true },
        { name: 'type', type: 'String', isAttr: true },
        { name: 'required', type: 'String', isAttr: true },
        { name: 'options', type: 'String', isAttr: true },
      ],
    },
    {
      name: 'RequiredField',
      superClass: ['Element'],
      meta: { allowedIn: ['bpmn:Process'] },
      properties: [
        { name: 'name', type: 'String', isAttr: true },
        { name: 'label', type: 'String', isAttr: true },
      ],
    },
  ],
};

export const spiffModdle = {
  name: 'spiffworkflow',
  prefix: 'spiffworkflow',
  uri: 'http://spiffworkflow.org/bpmn/schema/1.0/core',
  xml: { tagAlias: 'lowerCase' },
  associations: [],
  types: [
    {
      name: 'ServiceTaskOperator',
      superClass: ['Element'],
      meta: { allowedIn: ['bpmn:ServiceTask'] },
      properties: [
        { name: 'id', type: 'String', isAttr: true },
        { name: 'resultVariable', type: 'String', isAttr: true },
        { name: 'parameterList', type: 'Parameters' },
      ],
    },
    {
      name: 'Parameters',
      superClass: ['Element'],
      properties: [{ name: 'parameters', type: 'Parameter', isMany: true }],
    },
    {
      name: 'Parameter',
      superClass: ['Element'],
      properties: [
        { name: 'id', type: 'String', isAttr: true },
        { name: 'type', type: 'String', isAttr: true },
        { name: 'value', type: 'String', isAttr: true },
      ],
    },
    {
      name: 'Properties',
      superClass: ['Element'],
      meta: { allowedIn: ['*'] },
      properties: [{ name: 'properties', type: 'Property', isMany: true }],
    },
    {
      name: 'Property',
      superClass: ['Element'],
      properties: [
        { name: 'name', type: 'String', isAttr: true },
        { name: 'value', type: 'String', isAttr: true },
      ],
    },
    {
      name: 'PreScript',
      superClass: ['Element'],
      properties: [{ name: 'value', type: 'String', isBody: true }],
    },
    {
      name: 'PostScript',
      superClass: ['Element'],
      properties: [{ name: 'value', type: 'String', isBody: true }],
    },
  ],
};
