// A field's uiSchema from its schema alone, so a catalog model's form reads well without
// naming the model: `x-ui-widget` picks a widget, `x-enum-labels` names the options, an
// optional enum's null reads "none", and a number's limits (minimum, maximum, multipleOf or
// x-step) are written under the field.

import type { UiSchema } from "@rjsf/utils";
import type { Json, JsonObject } from "./api";

/** `x-ui-widget` values the page has a widget for, by the renderer's widget names. */
const WIDGETS: Record<string, string> = {
  textarea: "textarea",
  "local-file": "localFile",
  "file-url": "fileUrl",
  "file-urls": "fileUrls",
};


function isNumeric(property: JsonObject): boolean {
  const type = property.type;
  const types = Array.isArray(type) ? type : [type];
  return types.includes("number") || types.includes("integer");
}

function shown(value: Json | undefined): string | null {
  return typeof value === "number" ? String(value) : null;
}

/** "from 256 to 1536, in steps of 64", or null when the field has no limit. */
export function limitsText(property: JsonObject): string | null {
  if (!isNumeric(property) || Array.isArray(property.enum)) return null;
  const low = shown(property.minimum) ?? shown(property.exclusiveMinimum);
  const high = shown(property.maximum) ?? shown(property.exclusiveMaximum);
  const step = shown(property["x-step"]) ?? shown(property.multipleOf);
  const parts: string[] = [];
  if (low !== null && high !== null) parts.push(`from ${low} to ${high}`);
  else if (low !== null) parts.push(`at least ${low}`);
  else if (high !== null) parts.push(`at most ${high}`);
  if (step !== null) parts.push(`in steps of ${step}`);
  return parts.length ? parts.join(", ") : null;
}

/** The option labels of an enum: `x-enum-labels` where given, null as "none", else the value. */
export function enumLabels(property: JsonObject): string[] | null {
  const choices = property.enum;
  if (!Array.isArray(choices)) return null;
  const given = property["x-enum-labels"];
  const labels = given && typeof given === "object" && !Array.isArray(given) ? (given as JsonObject) : {};
  const named = choices.map((choice) => {
    const label = labels[String(choice)];
    if (typeof label === "string") return label;
    return choice === null ? "none" : String(choice);
  });
  // Only when some label differs from the stock one (the value as text).
  return named.some((label, at) => label !== String(choices[at])) ? named : null;
}

/** The uiSchema of one input field that no edge feeds. */
export function fieldHints(property: JsonObject): UiSchema {
  const field: UiSchema = {};
  const hint = property["x-ui-widget"];
  if (typeof hint === "string" && WIDGETS[hint]) field["ui:widget"] = WIDGETS[hint];
  else if (typeof property["x-step"] === "number" && isNumeric(property)) field["ui:widget"] = "stepNumber";
  const labels = enumLabels(property);
  if (labels) field["ui:enumNames"] = labels;
  const limits = limitsText(property);
  if (limits) field["ui:help"] = limits;
  return field;
}
