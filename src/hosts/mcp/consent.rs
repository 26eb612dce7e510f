//! Asking before paying: the limits a price must keep (the call's cap, the server's budget),
//! and the question put to the user through the client — an elicitation request over the
//! session (initialize-era clients), or an `input_required` round (2026-07-28), whose answer
//! comes back with the retried call.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rmcp::model::{
    ElicitRequest, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema,
    InputRequest, InputRequests, InputRequiredResult, InputResponses, ProtocolVersion,
};
use rmcp::service::RequestContext;
use rmcp::RoleServer;
use serde_json::json;

use super::tools::CAP;
use crate::api::Estimate;

/// The key of the question in an `input_required` round.
const QUESTION: &str = "accept_price";
/// How long an asked question stays answerable.
const QUESTION_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// How a client can be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// It takes elicitation requests over its session.
    InSession,
    /// It answers `input_required` results and retries the call (2026-07-28).
    InRounds,
    /// It cannot be asked: the call must carry a cap.
    No,
}

impl Asking {
    /// How the client of this request can be asked.
    pub fn of(ctx: &RequestContext<RoleServer>) -> Self {
        // Form elicitation: declared as `form`, or as an empty object (before modes existed).
        let can_elicit = ctx
            .client_capabilities()
            .and_then(|capabilities| capabilities.elicitation)
            .is_some_and(|elicitation| elicitation.form.is_some() || elicitation.url.is_none());
        let modern = ctx
            .protocol_version()
            .is_some_and(|version| version.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        match (can_elicit, modern) {
            (false, _) => Self::No,
            (true, true) => Self::InRounds,
            (true, false) => Self::InSession,
        }
    }
}

/// A question asked in a round, waiting for the retried call.
struct Asked {
    key: String,
    usd: Option<f64>,
    at: Instant,
}

/// The server's budget and the questions it has asked.
pub struct Consent {
    budget_usd: Option<f64>,
    spent_usd: Mutex<f64>,
    asked: Mutex<HashMap<String, Asked>>,
}

/// Dollars set aside for one Run, given back if it is not billed.
#[derive(Debug, Clone, Copy)]
pub struct Reserved(pub Option<f64>);

impl Consent {
    /// A budget of `budget_usd` for everything this server starts (none when `None`).
    pub fn new(budget_usd: Option<f64>) -> Self {
        Self {
            budget_usd,
            spent_usd: Mutex::new(0.0),
            asked: Mutex::new(HashMap::new()),
        }
    }

    /// Why `price` may not be paid by a call capped at `cap`, or by this server's budget.
    pub fn refusal(&self, price: &Estimate, cap: Option<f64>) -> Option<String> {
        if let Some(cap) = cap {
            match price {
                Estimate::Unknown { reason } => {
                    return Some(format!(
                        "the price cannot be known before running ({reason}), so it cannot be kept under {CAP} ${cap}; nothing was sent"
                    ))
                }
                Estimate::Known { usd, .. } if *usd > cap => {
                    return Some(format!(
                        "the price ${usd:.4} is above {CAP} ${cap}; nothing was sent"
                    ))
                }
                Estimate::Known { .. } => {}
            }
        }
        let budget = self.budget_usd?;
        let spent = *self.spent_usd.lock().unwrap_or_else(|e| e.into_inner());
        match price {
            Estimate::Unknown { reason } => Some(format!(
                "the price cannot be known before running ({reason}) and this server keeps a budget (--max-cost ${budget}); nothing was sent"
            )),
            Estimate::Known { usd, .. } if spent + usd > budget + 1e-9 => Some(format!(
                "the price ${usd:.4} would take this server past its budget (--max-cost ${budget}, ${spent:.4} spent or set aside); nothing was sent"
            )),
            Estimate::Known { .. } => None,
        }
    }

    /// Sets `price` aside from the budget, or says why it cannot be (another call may have
    /// taken what was left since [`Consent::refusal`]).
    pub fn reserve(&self, price: &Estimate, cap: Option<f64>) -> Result<Reserved, String> {
        let mut spent = self.spent_usd.lock().unwrap_or_else(|e| e.into_inner());
        let usd = price.usd();
        if let Some(budget) = self.budget_usd {
            let Some(usd) = usd else {
                return Err(
                    "the price is unknown and this server keeps a budget; nothing was sent".into(),
                );
            };
            if *spent + usd > budget + 1e-9 {
                return Err(format!(
                    "the price ${usd:.4} would take this server past its budget (--max-cost ${budget}); nothing was sent"
                ));
            }
        }
        if let (Some(cap), None) = (cap, usd) {
            return Err(format!(
                "the price is unknown, so it cannot be kept under {CAP} ${cap}; nothing was sent"
            ));
        }
        *spent += usd.unwrap_or(0.0);
        Ok(Reserved(usd))
    }

    /// A Run was billed `cost` (Wiro's figure, when it gave one): the budget counts that, not
    /// the estimate set aside.
    pub fn billed(&self, reserved: Reserved, cost: Option<f64>) {
        if let (Some(estimate), Some(cost)) = (reserved.0, cost) {
            let mut spent = self.spent_usd.lock().unwrap_or_else(|e| e.into_inner());
            *spent = (*spent - estimate + cost).max(0.0);
        }
    }

    /// Gives back what was set aside for a Run that was not billed (never sent, failed,
    /// stopped).
    pub fn give_back(&self, reserved: Reserved) {
        if let Some(usd) = reserved.0 {
            let mut spent = self.spent_usd.lock().unwrap_or_else(|e| e.into_inner());
            *spent = (*spent - usd).max(0.0);
        }
    }

    /// What the user is asked, and the form they answer in.
    fn question(title: &str, price: &Estimate, summary: &str) -> ElicitRequestParams {
        let price = match price {
            Estimate::Known { usd, basis } => format!("about ${usd:.4} ({basis})"),
            Estimate::Unknown { reason } => format!("unknown before running ({reason})"),
        };
        let message = format!(
            "Start a paid Run of {title}? Price: {price}. Settings: {summary}. Failed or stopped runs are not billed."
        );
        let schema = ElicitationSchema::from_json_schema(
            json!({
                "type": "object",
                "properties": {
                    "accept": {
                        "type": "boolean",
                        "title": "Pay and start the Run",
                        "default": true
                    }
                }
            })
            .as_object()
            .cloned()
            .unwrap_or_default(),
        )
        .expect("a valid elicitation form");
        ElicitRequestParams::FormElicitationParams {
            meta: None,
            message,
            requested_schema: schema,
        }
    }

    /// Asks over the session; `Ok(true)` when the user accepted.
    pub async fn ask_in_session(
        ctx: &RequestContext<RoleServer>,
        title: &str,
        price: &Estimate,
        summary: &str,
    ) -> Result<bool, String> {
        let answer = ctx
            .peer
            .create_elicitation(Self::question(title, price, summary))
            .await
            .map_err(|error| format!("the client could not ask the user: {error}"))?;
        Ok(accepted(&answer))
    }

    /// The `input_required` round that asks the user about the call `key`.
    pub fn ask_in_round(
        &self,
        key: &str,
        title: &str,
        price: &Estimate,
        summary: &str,
    ) -> InputRequiredResult {
        let id = super::journal::digest(
            format!("{key}{:?}{}", Instant::now(), fastrand::u64(..)).as_bytes(),
        );
        let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        asked.retain(|_, question| question.at.elapsed() < QUESTION_LIFETIME);
        asked.insert(
            id.clone(),
            Asked {
                key: key.to_owned(),
                usd: price.usd(),
                at: Instant::now(),
            },
        );
        let mut requests = InputRequests::new();
        requests.insert(
            QUESTION.into(),
            InputRequest::Elicitation(ElicitRequest::new(Self::question(title, price, summary))),
        );
        InputRequiredResult::new(Some(requests), Some(id))
    }

    /// The user's answer to a round this server asked about the call `key`: `Ok(true)` when
    /// accepted. A state this server did not hand out, handed out for other arguments, or for
    /// another price than `price` now is refused.
    pub fn answer_of_round(
        &self,
        state: &str,
        key: &str,
        price: &Estimate,
        responses: Option<&InputResponses>,
    ) -> Result<bool, String> {
        let asked = self
            .asked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(state)
            .filter(|asked| asked.at.elapsed() < QUESTION_LIFETIME)
            .ok_or("this answer is to no question this server asked (or it is too old); nothing was sent")?;
        if asked.key != key {
            return Err("the arguments changed since the price was asked; nothing was sent".into());
        }
        if asked.usd != price.usd() {
            return Err("the price changed since the user accepted it; nothing was sent (call again to be asked the new price)".into());
        }
        let answer = responses
            .and_then(|responses| responses.get(QUESTION))
            .and_then(|value| serde_json::from_value::<ElicitResult>(value.clone()).ok())
            .ok_or("the answer to the price question is missing; nothing was sent")?;
        Ok(accepted(&answer))
    }
}

/// Whether the user accepted: the form accepted, and its box not unticked.
fn accepted(answer: &ElicitResult) -> bool {
    answer.action == ElicitationAction::Accept
        && answer
            .content
            .as_ref()
            .and_then(|content| content.get("accept"))
            .and_then(serde_json::Value::as_bool)
            != Some(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(usd: f64) -> Estimate {
        Estimate::Known {
            usd,
            basis: "test".into(),
        }
    }

    #[test]
    fn a_cap_and_a_budget_refuse_what_they_cannot_cover() {
        let consent = Consent::new(Some(1.0));
        assert!(consent.refusal(&known(0.5), Some(0.4)).is_some());
        assert!(consent.refusal(&known(0.5), Some(0.5)).is_none());
        let unknown = Estimate::Unknown {
            reason: "depends".into(),
        };
        assert!(
            consent.refusal(&unknown, None).is_some(),
            "a budget needs a price"
        );
        let first = consent.reserve(&known(0.6), None).expect("within budget");
        assert!(
            consent.reserve(&known(0.6), None).is_err(),
            "past the budget"
        );
        consent.give_back(first);
        assert!(consent.reserve(&known(0.6), None).is_ok(), "given back");
        let free = Consent::new(None);
        assert!(free.refusal(&unknown, None).is_none());
        assert!(free.refusal(&unknown, Some(1.0)).is_some());
    }

    #[test]
    fn a_round_answer_counts_only_for_the_question_and_arguments_it_was_asked_for() {
        let consent = Consent::new(None);
        let round = consent.ask_in_round("key-a", "Model", &known(0.3), "prompt: a cat");
        let state = round.request_state.clone().expect("a state");
        let mut yes = InputResponses::new();
        yes.insert(
            QUESTION.into(),
            json!({"action": "accept", "content": {"accept": true}}),
        );
        assert!(consent
            .answer_of_round(&state, "key-b", &known(0.3), Some(&yes))
            .is_err());
        let round = consent.ask_in_round("key-a", "Model", &known(0.3), "prompt: a cat");
        let state = round.request_state.clone().expect("a state");
        assert_eq!(
            consent.answer_of_round(&state, "key-a", &known(0.3), Some(&yes)),
            Ok(true)
        );
        assert!(
            consent
                .answer_of_round(&state, "key-a", &known(0.3), Some(&yes))
                .is_err(),
            "answered once"
        );
        let round = consent.ask_in_round("key-a", "Model", &known(0.3), "");
        let state = round.request_state.clone().expect("a state");
        assert!(
            consent
                .answer_of_round(&state, "key-a", &known(0.9), Some(&yes))
                .is_err(),
            "the price changed since it was accepted"
        );
        let round = consent.ask_in_round("key-a", "Model", &known(0.3), "");
        let state = round.request_state.clone().expect("a state");
        let mut no = InputResponses::new();
        no.insert(QUESTION.into(), json!({"action": "decline"}));
        assert_eq!(
            consent.answer_of_round(&state, "key-a", &known(0.3), Some(&no)),
            Ok(false)
        );
    }
}
