// The form widgets the stock renderer lacks, picked by schema hints (see uiHints.ts): a local
// file (path or chosen file, stored in the workspace), a file URL, a list of file URLs, and a
// number input that steps by `x-step`. Each keeps the value exactly as the schema types it.

import type { WidgetProps } from "@rjsf/utils";
import { api } from "./api";

export function LocalFileWidget(props: WidgetProps) {
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

const URL_HINT = "https://… (a public URL, e.g. an upload node's url)";

/** One file's URL (`x-ui-widget: file-url`). */
export function FileUrlWidget(props: WidgetProps) {
  const { id, value, onChange, onBlur, required, disabled, readonly } = props;
  return (
    <input
      id={id}
      className="form-control file-url"
      type="url"
      inputMode="url"
      value={typeof value === "string" ? value : ""}
      required={required}
      disabled={disabled || readonly}
      placeholder={URL_HINT}
      onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value)}
      onBlur={(event) => onBlur(id, event.target.value)}
    />
  );
}

/** Several files' URLs (`x-ui-widget: file-urls`): one row per URL, add and remove. */
export function FileUrlsWidget(props: WidgetProps) {
  const { id, value, onChange, disabled, readonly } = props;
  const urls: string[] = Array.isArray(value) ? value.map((url) => (typeof url === "string" ? url : "")) : [];
  const off = disabled || readonly;
  const set = (next: string[]) => onChange(next.length ? next : undefined);
  return (
    <div className="file-urls" id={id} data-testid={`file-urls-${id}`}>
      {urls.map((url, at) => (
        <div className="file-urls-row" key={at}>
          <input
            id={`${id}_${at}`}
            className="form-control file-url"
            type="url"
            inputMode="url"
            value={url}
            disabled={off}
            placeholder={URL_HINT}
            onChange={(event) => set(urls.map((old, i) => (i === at ? event.target.value : old)))}
          />
          <button type="button" className="small" disabled={off} title="remove this URL" onClick={() => set(urls.filter((_, i) => i !== at))}>
            ×
          </button>
        </div>
      ))}
      <button type="button" className="small" disabled={off} data-testid={`file-urls-add-${id}`} onClick={() => set([...urls, ""])}>
        + add a URL
      </button>
    </div>
  );
}

/** A number input whose arrows step by `x-step` (a decimal step the schema keeps out of
 * `multipleOf`); validation is the schema's, unchanged. */
export function StepNumberWidget(props: WidgetProps) {
  const { BaseInputTemplate } = props.registry.templates;
  const step = props.schema["x-step"];
  const schema = typeof step === "number" ? { ...props.schema, multipleOf: step } : props.schema;
  return <BaseInputTemplate {...props} schema={schema} type="number" />;
}
