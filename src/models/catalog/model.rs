//! One model of the catalog: its slugs, texts, parameter definitions as Wiro sent them, price
//! rules, rules between its parameters and when it was read; and what is derived from them
//! (its node type id, typed fields, input schema and wire mapping), computed once when first
//! asked for.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::field::Field;
use super::rules::{rule_problems, ModelRule};
use crate::api::wire::read_parameter_list;
use crate::api::{ModelDetail, ModelParameter};
use crate::models::ParameterProblem;

/// A model as the catalog file keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CatalogModel {
    /// The node type id: `<cleanslugowner>/<cleanslugproject>`, lowercased.
    #[serde(rename = "type")]
    pub type_id: String,
    /// The owner as Wiro spells it (may hold capitals and spaces).
    pub slugowner: String,
    /// The project as Wiro spells it.
    pub slugproject: String,
    /// The URL-safe owner, used to run the model.
    pub cleanslugowner: String,
    /// The URL-safe project, used to run the model.
    pub cleanslugproject: String,
    /// The model's title.
    #[serde(default)]
    pub title: String,
    /// What the model does, as Wiro describes it.
    #[serde(default)]
    pub description: String,
    /// Wiro's categories (`text-to-video`, `llm`, ...).
    #[serde(default)]
    pub categories: Vec<String>,
    /// When Tool/Detail was read (RFC 3339, UTC).
    pub read_at: String,
    /// The parameter definitions exactly as Tool/Detail sent them (`null` when the model
    /// publishes none), as JSON text: read into typed parameters when first needed, without a
    /// JSON value of them in between.
    pub parameters: Box<RawValue>,
    /// The price rules as Tool/Detail sent them: `dynamicprice`, `cps`, `approximatelycost`.
    #[serde(default)]
    pub prices: Map<String, Value>,
    /// Rules between parameters that Tool/Detail has no field for (Wiro states them in free
    /// text): checked before a Run and written into the input schema.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<ModelRule>,
    /// The input schema derived from `parameters` when the catalog was written, for people
    /// reviewing a catalog and its diffs; the node is built from `parameters` again on load
    /// (so it is skipped when reading).
    #[serde(default, skip_deserializing, skip_serializing_if = "Value::is_null")]
    pub inputs: Value,
    /// Built into the crate ([`crate::models::builtin`]) rather than read from a server.
    #[serde(skip)]
    pub(crate) built_in: bool,
    #[serde(skip)]
    derived: OnceLock<Derived>,
}

/// What a model's definitions mean, computed once.
#[derive(Debug, Clone)]
struct Derived {
    detail: Arc<ModelDetail>,
    fields: Vec<Field>,
    problem: Option<String>,
}

impl CatalogModel {
    /// A model from its Tool/List `summary` and Tool/Detail `answer`, read at `read_at`.
    pub fn from_answers(summary: &Value, answer: &Value, read_at: &str) -> Result<Self, String> {
        let tool = match answer.get("tool") {
            Some(Value::Array(tools)) => tools.first().cloned().unwrap_or(Value::Null),
            Some(tool @ Value::Object(_)) => tool.clone(),
            _ => answer.clone(),
        };
        let text = |key: &str| -> String {
            [&tool, summary]
                .iter()
                .find_map(|source| match source.get(key)? {
                    Value::String(text) if !text.trim().is_empty() => Some(text.trim().to_owned()),
                    Value::Number(number) => Some(number.to_string()),
                    _ => None,
                })
                .unwrap_or_default()
        };
        let (slugowner, slugproject) = (text("slugowner"), text("slugproject"));
        if slugowner.is_empty() || slugproject.is_empty() {
            return Err("the answer names no slugowner and slugproject".into());
        }
        let clean = |key: &str, raw: &str| {
            let given = text(key);
            clean_slug(if given.is_empty() { raw } else { &given })
        };
        let (cleanslugowner, cleanslugproject) = (
            clean("cleanslugowner", &slugowner),
            clean("cleanslugproject", &slugproject),
        );
        let categories = match tool.get("categories").or_else(|| summary.get("categories")) {
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect(),
            Some(Value::String(text)) => {
                serde_json::from_str::<Vec<String>>(text).unwrap_or_else(|_| vec![text.clone()])
            }
            _ => Vec::new(),
        };
        let prices = ["dynamicprice", "cps", "approximatelycost"]
            .iter()
            .filter_map(|key| Some(((*key).to_owned(), tool.get(*key)?.clone())))
            .collect();
        let mut model = Self {
            type_id: format!("{cleanslugowner}/{cleanslugproject}").to_ascii_lowercase(),
            slugowner,
            slugproject,
            cleanslugowner,
            cleanslugproject,
            title: text("title"),
            description: text("description"),
            categories,
            read_at: read_at.to_owned(),
            parameters: serde_json::value::to_raw_value(
                tool.get("parameters").unwrap_or(&Value::Null),
            )
            .map_err(|problem| format!("parameters: {problem}"))?,
            prices,
            rules: Vec::new(),
            inputs: Value::Null,
            built_in: false,
            derived: OnceLock::new(),
        };
        model.inputs = model.input_schema();
        Ok(model)
    }

    /// The slug a Run is sent to (and Task/List asked with): the clean one, which is URL-safe;
    /// for a built-in model the raw one, as this crate has always sent it, so a Run whose
    /// answer an earlier version lost is still looked for under the name it was sent with.
    pub fn run_slug(&self) -> String {
        if self.built_in {
            format!("{}/{}", self.slugowner, self.slugproject)
        } else {
            format!("{}/{}", self.cleanslugowner, self.cleanslugproject)
        }
    }

    /// A title for palettes: Wiro's, or the slug.
    pub fn display_title(&self) -> String {
        if self.title.is_empty() {
            format!("{}/{}", self.slugowner, self.slugproject)
        } else {
            self.title.clone()
        }
    }

    fn derived(&self) -> &Derived {
        self.derived.get_or_init(|| {
            let read = read_parameter_list(self.parameters.get()).and_then(|parameters| {
                ModelDetail::with_parameters(&self.run_slug(), parameters, |key| {
                    self.prices.get(key)
                })
            });
            let (detail, problem) = match read {
                Ok(detail) => (detail, None),
                Err(problem) => (empty_detail(&self.run_slug()), Some(problem)),
            };
            let mut fields: Vec<Field> = Vec::new();
            for parameter in &detail.parameters {
                if let Some(field) = Field::read(parameter) {
                    if fields.iter().all(|known| known.id != field.id) {
                        fields.push(field);
                    }
                }
            }
            // A file parameter whose `{id}Url` twin is listed as a parameter of its own: the
            // twin takes the URL, and the file slot (`{id}`, a multipart file) is left out, so
            // no wire name is used twice and no URL goes where a file is expected.
            let ids: Vec<String> = fields.iter().map(|field| field.id.clone()).collect();
            fields.retain(|field| field.wire == field.id || !ids.contains(&field.wire));
            let problem = problem.or_else(|| {
                self.publishes_no_parameters()
                    .then(|| "the model publishes no parameters".to_owned())
            });
            Derived {
                detail: Arc::new(detail),
                fields,
                problem,
            }
        })
    }

    /// The model publishes no parameters (`parameters: null`): it is no typed node.
    pub fn publishes_no_parameters(&self) -> bool {
        self.parameters.get().trim() == "null"
    }

    /// The typed fields, one per parameter (the first of two with one id).
    pub fn fields(&self) -> &[Field] {
        &self.derived().fields
    }

    /// The parameters and prices as [`ModelDetail`] reads them (for pricing).
    pub fn detail(&self) -> &Arc<ModelDetail> {
        &self.derived().detail
    }

    /// Why the model cannot be a typed node (its parameters are not published, or cannot be
    /// read); `None` when it can.
    pub fn untyped_because(&self) -> Option<&str> {
        self.derived().problem.as_deref()
    }

    /// The input schema derived from the parameters, with the rules between them as an
    /// `allOf` of `if`/`then` blocks.
    pub fn input_schema(&self) -> Value {
        let mut schema = super::schema::input_schema(&self.display_title(), self.fields());
        let blocks: Vec<Value> = self
            .rules
            .iter()
            .filter_map(|rule| rule.schema_block(self.fields()))
            .collect();
        if !blocks.is_empty() {
            schema["allOf"] = Value::Array(blocks);
        }
        schema
    }

    /// Built into the crate: its node wins over a catalog file's entry of the same model.
    pub fn is_built_in(&self) -> bool {
        self.built_in
    }

    /// The Run body for typed inputs. A built-in model's names every parameter (one left out
    /// as its default), as this crate has always sent PixVerse v4's; a catalog model's only
    /// those given (the model uses its defaults).
    pub fn to_wire(&self, inputs: &Map<String, Value>) -> Map<String, Value> {
        if self.built_in {
            super::wire::to_wire_every(self.fields(), inputs)
        } else {
            super::wire::to_wire(self.fields(), inputs)
        }
    }

    /// The problems of typed `inputs` with the model's rules; parameters in `unknown`
    /// (whose values come later) break none.
    pub fn rule_problems(
        &self,
        inputs: &Map<String, Value>,
        unknown: &BTreeSet<String>,
    ) -> Vec<ParameterProblem> {
        rule_problems(&self.rules, self.fields(), inputs, unknown)
    }

    /// The typed inputs of a Run body, or every problem a server would refuse it for: each
    /// parameter's definition, then the rules between the readable ones.
    pub fn check_wire(
        &self,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Vec<ParameterProblem>> {
        let (inputs, mut problems) = super::wire::read_wire(self.fields(), body);
        problems.extend(self.rule_problems(&inputs, &BTreeSet::new()));
        if problems.is_empty() {
            Ok(inputs)
        } else {
            Err(problems)
        }
    }

    /// The typed inputs of a Run body, or every problem a server would refuse it for.
    pub fn from_wire(
        &self,
        body: &Map<String, Value>,
    ) -> Result<Map<String, Value>, Vec<ParameterProblem>> {
        super::wire::from_wire(self.fields(), body)
    }

    /// The kind of files a Run of this model makes, when its categories say it plainly
    /// (see [`kind_made_by`](crate::models::file_kind::kind_made_by)): what the workflow's
    /// check judges a wired output file by, so it is never a guess.
    pub fn made_kind(&self) -> Option<&'static str> {
        crate::models::file_kind::kind_made_by(&self.categories)
    }

    /// What a Run of this model makes, for descriptions: `video`, `images`, `audio`, `text`
    /// or `files`; [`Self::made_kind`] when its categories say it plainly, else a guess from
    /// its categories' and name's words.
    pub fn output_kind(&self) -> &'static str {
        match self.made_kind() {
            Some("image") => return "images",
            Some(kind) => return kind,
            None => {}
        }
        let words = self.categories.join(" ").to_ascii_lowercase()
            + " "
            + &self.cleanslugproject.to_ascii_lowercase();
        if words.contains("video") {
            "video"
        } else if ["speech", "audio", "music", "tts", "voice"]
            .iter()
            .any(|w| words.contains(w))
        {
            "audio"
        } else if ["llm", "chat", "text-generation", "language"]
            .iter()
            .any(|w| words.contains(w))
        {
            "text"
        } else if words.contains("image") {
            "images"
        } else {
            "files"
        }
    }
}

fn empty_detail(model: &str) -> ModelDetail {
    ModelDetail {
        model: model.to_owned(),
        title: None,
        parameters: Vec::<ModelParameter>::new(),
        dynamicprice: Vec::new(),
        cps: None,
        approximatelycost: None,
    }
}

pub use crate::api::clean_slug;

/// The node type id of the model `owner/project` (its raw or clean slugs): both parts clean
/// (`PixVerse/text-to-video-v4`, `Acme Labs/frames to video` → `acme-labs/frames-to-video`).
pub fn type_id_of(slug: &str) -> Option<String> {
    let (owner, project) = slug.split_once('/')?;
    let (owner, project) = (clean_slug(owner), clean_slug(project));
    (!owner.is_empty() && !project.is_empty()).then(|| format!("{owner}/{project}"))
}
