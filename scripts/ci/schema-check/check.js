// Compiles every published JSON Schema with stock Ajv 2020 (default options) and ajv-formats,
// our vocabulary loaded the way the README shows, and checks each `default` against the
// schema it stands in. Usage: node check.js VOCABULARY_JSON DIR...
// Each *.json under each DIR (recursively) is one of: a schema (it has `$schema`), a node
// document (`inputs` and `outputs` schemas), a meta-schema (`$vocabulary`), or an index
// (`nodes` listing files). Anything else fails, as does every schema Ajv refuses.
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv2020 = require("ajv/dist/2020");
const addFormats = require("ajv-formats");

const [vocabularyFile, ...dirs] = process.argv.slice(2);
if (!vocabularyFile || dirs.length === 0) {
  console.error("usage: node check.js VOCABULARY_JSON DIR...");
  process.exit(2);
}
const vocabulary = JSON.parse(fs.readFileSync(vocabularyFile, "utf8"));

/** A stock Ajv 2020 with our vocabulary, exactly as the README tells users to load it. */
function newAjv() {
  const ajv = new Ajv2020();
  addFormats(ajv);
  ajv.addMetaSchema(vocabulary);
  ajv.addVocabulary(
    Object.entries(vocabulary.properties).map(([keyword, metaSchema]) => ({ keyword, metaSchema })),
  );
  return ajv;
}

function jsonFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : jsonFiles(file);
    return entry.name.endsWith(".json") ? [file] : [];
  });
}

/** Where subschemas stand, by keyword: one schema, a list, or a map of named schemas. */
const ONE = ["items", "additionalProperties", "unevaluatedItems", "unevaluatedProperties",
  "propertyNames", "contains", "not", "if", "then", "else", "contentSchema"];
const LIST = ["allOf", "anyOf", "oneOf", "prefixItems"];
const NAMED = ["properties", "patternProperties", "$defs", "dependentSchemas"];

/** The keywords of JSON Schema 2020-12's vocabularies, from the meta-schemas Ajv ships. */
const STANDARD = new Set(
  ["core", "applicator", "unevaluated", "validation", "meta-data", "format-annotation", "content"]
    .flatMap((name) => Object.keys(require(`ajv/dist/refs/json-schema-2020-12/meta/${name}.json`).properties)),
);
const OURS = new Set(Object.keys(vocabulary.properties));

/** Every subschema (the schema itself first), with its JSON pointer. */
function subschemas(schema, at = "", found = []) {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return found;
  found.push([at, schema]);
  for (const key of ONE) if (key in schema) subschemas(schema[key], `${at}/${key}`, found);
  for (const key of LIST) {
    (Array.isArray(schema[key]) ? schema[key] : []).forEach((sub, i) => subschemas(sub, `${at}/${key}/${i}`, found));
  }
  for (const key of NAMED) {
    for (const [name, sub] of Object.entries(schema[key] ?? {})) subschemas(sub, `${at}/${key}/${name}`, found);
  }
  return found;
}

/**
 * The problems of one schema: Ajv's compile (its warnings count: a stock Ajv prints them at
 * every compile), keywords that are neither 2020-12's nor ours (Ajv takes some others, such
 * as OpenAPI's `nullable`, and skips `$defs` nothing refers to), our keywords' values against
 * the meta-schema, and each `default` against the schema it stands in.
 */
function schemaProblems(schema, where) {
  const problems = [];
  const warnings = [];
  const warn = console.warn;
  console.warn = (...args) => warnings.push(args.join(" "));
  try {
    const ajv = newAjv();
    try {
      ajv.compile(schema);
    } catch (error) {
      problems.push(`${where}: Ajv 2020 does not compile it: ${error.message}`);
    }
    if (!ajv.validate(vocabulary.$id, schema)) {
      problems.push(`${where}: not valid against ${vocabulary.$id}: ${ajv.errorsText(ajv.errors)}`);
    }
    const all = subschemas(schema);
    for (const [at, sub] of all) {
      for (const key of Object.keys(sub).filter((key) => !STANDARD.has(key) && !OURS.has(key))) {
        problems.push(`${where}#${at}: ${JSON.stringify(key)} is neither a JSON Schema 2020-12 keyword nor in ${vocabulary.$id}`);
      }
    }
    for (const [at, sub] of all.filter(([, sub]) => "default" in sub)) {
      const { default: value, ...rest } = sub;
      let valid;
      try {
        valid = newAjv().compile({ ...rest, $defs: schema.$defs });
      } catch (error) {
        problems.push(`${where}#${at}: its schema does not compile alone: ${error.message}`);
        continue;
      }
      if (!valid(value)) {
        problems.push(`${where}#${at}: default ${JSON.stringify(value)} is invalid: ${newAjv().errorsText(valid.errors)}`);
      }
    }
  } finally {
    console.warn = warn;
  }
  return problems.concat(warnings.map((warning) => `${where}: Ajv warns: ${warning}`));
}

function fileProblems(file) {
  let document;
  try {
    document = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    return [`${file}: not JSON: ${error.message}`];
  }
  const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
  if (!isObject(document)) return [`${file}: not a JSON object`];
  if ("$vocabulary" in document) {
    const ajv = new Ajv2020();
    addFormats(ajv);
    const problems = ajv.validateSchema(document) ? [] : [`${file}: not a valid meta-schema: ${ajv.errorsText(ajv.errors)}`];
    if (document.$id === vocabulary.$id && JSON.stringify(document) !== JSON.stringify(vocabulary)) {
      problems.push(`${file}: differs from ${vocabularyFile}, which has the same $id`);
    }
    return problems;
  }
  if (Array.isArray(document.nodes)) {
    const listed = [document.workflow, document.vocabulary, ...document.nodes.map((node) => node.file)];
    return listed
      .filter((name) => name !== undefined && !fs.existsSync(path.join(path.dirname(file), name)))
      .map((name) => `${file}: lists ${name}, which is not there`);
  }
  if (isObject(document.inputs) && isObject(document.outputs)) {
    return [
      ...schemaProblems(document.inputs, `${file} (inputs)`),
      ...schemaProblems(document.outputs, `${file} (outputs)`),
    ];
  }
  if ("$schema" in document) return schemaProblems(document, file);
  return [`${file}: not a schema ($schema), a node document (inputs, outputs), a meta-schema or an index`];
}

let checked = 0;
const problems = [];
for (const dir of dirs) {
  const files = jsonFiles(dir);
  if (files.length === 0) problems.push(`${dir}: no *.json files`);
  for (const file of files) {
    checked += 1;
    problems.push(...fileProblems(file));
  }
}
for (const problem of problems) console.error(`error: ${problem}`);
console.log(`${checked} files checked with ajv ${require("ajv/package.json").version} (Ajv2020, default options) and ajv-formats ${require("ajv-formats/package.json").version}: ${problems.length === 0 ? "all compile" : `${problems.length} problems`}`);
process.exit(problems.length === 0 ? 0 : 1);
