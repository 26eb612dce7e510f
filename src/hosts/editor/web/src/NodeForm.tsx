// A node's form: the stock renderer (@rjsf/core) over the node's input schema exactly as the
// server publishes it, validated by Ajv's JSON Schema 2020-12 class. Nothing here names a
// node: the uiSchema is derived from schema hints (uiHints.ts: `x-ui-widget`, `x-enum-labels`,
// number limits; the extra widgets are in widgets.tsx), the cross-field rules come out of the
// schema's `allOf` if/then entries with their titles, and inputs fed by an edge are shown as
// links instead of fields.

import { useMemo } from "react";
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import type { ErrorSchema, FieldProps, RJSFSchema, RJSFValidationError, UiSchema } from "@rjsf/utils";
import Ajv2020 from "ajv/dist/2020";
import type { JsonObject, NodeSpec, Problem, WorkflowNode } from "./api";
import { fieldHints } from "./uiHints";
import { FileUrlsWidget, FileUrlWidget, LocalFileWidget, StepNumberWidget } from "./widgets";
import { referenceText } from "./workflow";

const validator = customizeValidator({ AjvClass: Ajv2020 });

/** The widgets schema hints name (uiHints.ts), beside the stock ones. */
const WIDGETS = { localFile: LocalFileWidget, fileUrl: FileUrlWidget, fileUrls: FileUrlsWidget, stepNumber: StepNumberWidget };

function LinkedField(props: FieldProps) {
  const options = (props.uiSchema?.["ui:options"] ?? {}) as { reference?: string; unlink?: () => void };
  const title = (props.schema.title as string | undefined) ?? props.name;
  return (
    <div className="form-group linked-field" data-testid={`linked-${props.name}`}>
      <label className="control-label">{title}</label>
      <div className="linked">
        <span>← {options.reference}</span>
        <button type="button" className="small" onClick={() => options.unlink?.()}>
          unlink
        </button>
      </div>
      {props.schema.description && <p className="field-description">{props.schema.description as string}</p>}
    </div>
  );
}

/** The uiSchema for a node: widget hints from the schema, links for inputs fed by edges. */
function uiSchemaFor(spec: NodeSpec, node: WorkflowNode, unlink: (port: string) => void): UiSchema {
  const ui: UiSchema = { "ui:submitButtonOptions": { norender: true } };
  const properties = (spec.inputs.properties ?? {}) as Record<string, JsonObject>;
  for (const [port, property] of Object.entries(properties)) {
    const reference = referenceText(node.inputs[port]);
    if (reference !== null) {
      ui[port] = { "ui:field": "linked", "ui:options": { reference, unlink: () => unlink(port) } };
      continue;
    }
    const field = fieldHints(property);
    if (Object.keys(field).length) ui[port] = field;
  }
  return ui;
}

/** Names each error by the schema rule it broke; drops errors about inputs fed by edges. */
function transformErrorsFor(schema: JsonObject, linked: Set<string>) {
  const rules = (schema.allOf ?? []) as JsonObject[];
  return (errors: RJSFValidationError[]): RJSFValidationError[] =>
    errors.flatMap((error) => {
      const property = (error.property ?? "").replace(/^\./, "").split(/[.[]/)[0];
      const missing = (error.params as { missingProperty?: string } | undefined)?.missingProperty;
      if (linked.has(property) || (error.name === "required" && missing && linked.has(missing))) return [];
      const rule = /^#\/allOf\/(\d+)\//.exec(error.schemaPath ?? "");
      if (!rule) return [error];
      if (error.name === "if") return []; // the field's own error names the rule
      const entry = rules[Number(rule[1])] ?? {};
      const message = `${String(entry.title ?? "rule")}${entry["x-rule-id"] ? ` [${String(entry["x-rule-id"])}]` : ""}`;
      return [{ ...error, message, stack: `${property}: ${message}` }];
    });
}

/** The server's problems for this node as the renderer's extra errors. */
function extraErrorsFor(problems: Problem[]): ErrorSchema {
  const errors: Record<string, { __errors: string[] }> & { __errors?: string[] } = {};
  for (const problem of problems) {
    const text = `${problem.message} [${problem.rule}]`;
    const port = problem.path.split(".")[0];
    if (!port) (errors.__errors ??= []).push(text);
    else (errors[port] ??= { __errors: [] }).__errors.push(text);
  }
  return errors as ErrorSchema;
}

export function NodeForm(props: {
  spec: NodeSpec;
  node: WorkflowNode;
  problems: Problem[];
  onChange: (formData: JsonObject, linked: Set<string>) => void;
  onUnlink: (port: string) => void;
}) {
  const { spec, node, problems, onChange, onUnlink } = props;
  const linked = useMemo(
    () => new Set(Object.keys(node.inputs).filter((port) => referenceText(node.inputs[port]) !== null)),
    [node.inputs],
  );
  const formData = useMemo(() => {
    const literal: JsonObject = {};
    for (const [port, value] of Object.entries(node.inputs)) if (!linked.has(port)) literal[port] = value;
    return literal;
  }, [node.inputs, linked]);
  const uiSchema = useMemo(() => uiSchemaFor(spec, node, onUnlink), [spec, node, onUnlink]);
  const transformErrors = useMemo(() => transformErrorsFor(spec.inputs, linked), [spec.inputs, linked]);
  const extraErrors = useMemo(() => extraErrorsFor(problems), [problems]);
  return (
    <Form
      key={node.id}
      schema={spec.inputs as RJSFSchema}
      uiSchema={uiSchema}
      formData={formData}
      validator={validator}
      liveValidate
      showErrorList="top"
      noHtml5Validate
      transformErrors={transformErrors}
      extraErrors={extraErrors}
      fields={{ linked: LinkedField }}
      widgets={WIDGETS}
      onChange={(event) => onChange((event.formData ?? {}) as JsonObject, linked)}
    />
  );
}
