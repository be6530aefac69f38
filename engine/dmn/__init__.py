"""DMN decision tables: deployed with versions beside the BPMN, evaluated with the dsl only."""
