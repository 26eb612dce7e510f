// A node's form: the stock renderer (@rjsf/core) over the node's input schema exactly as the
// server publishes it, validated by Ajv's JSON Schema 2020-12 class. Nothing here names a
// node: the uiSchema is derived from schema hints (`x-ui-widget`), the cross-field rules come
// out of the schema's `allOf` if/then entries with their titles, and inputs fed by an edge are
// shown as links instead of fields.

import { useMemo } from "react";
import Form from "@rjsf/core";
import { customizeValidator } from "@rjsf/validator-ajv8";
import type { ErrorSchema, FieldProps, RJSFSchema, RJSFValidationError, UiSchema, WidgetProps } from "@rjsf/utils";
import Ajv2020 from "ajv/dist/2020";
import { api, type JsonObject, type NodeSpec, type Problem, type WorkflowNode } from "./api";
import { referenceText } from "./workflow";

const validator = customizeValidator({ AjvClass: Ajv2020 });

/** `x-ui-widget` values the page has a widget for, by the stock renderer's widget names. */
const WIDGETS: Record<string, string> = { textarea: "textarea", "local-file": "localFile" };

function LocalFileWidget(props: WidgetProps) {
  const { id, value, onChange, required, disabled, readonly, placeholder } = props;
  const choose = async (files: FileList | null) => {
    const file = files?.[0];
    if (!file) return;
    const stored = await api.storeFile(file);
    onChange(stored.path);
  };
  return (
    <div className="local-file">
      <input
        id={id}
        className="form-control"
        type="text"
        value={typeof value === "string" ? value : ""}
        required={required}
        disabled={disabled || readonly}
        placeholder={placeholder || "a path in the workspace, or choose a file"}
        onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value)}
      />
      <label className="file-button">
        Choose file…
        <input
          type="file"
          data-testid="local-file-input"
          disabled={disabled || readonly}
          onChange={(event) => void choose(event.target.files)}
        />
      </label>
    </div>
  );
}

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
    const field: UiSchema = {};
    const hint = property["x-ui-widget"];
    if (typeof hint === "string" && WIDGETS[hint]) field["ui:widget"] = WIDGETS[hint];
    // The stock select labels a null choice "null"; an optional enum's null means "none".
    const choices = property.enum;
    if (Array.isArray(choices) && choices.includes(null)) {
      field["ui:enumNames"] = choices.map((choice) => (choice === null ? "none" : String(choice)));
    }
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
      widgets={{ localFile: LocalFileWidget }}
      onChange={(event) => onChange((event.formData ?? {}) as JsonObject, linked)}
    />
  );
}
