//! Workflow definitions: a name, a version, step kinds, and the plan that
//! turns a run's input into its fixed list of step instances.

mod step;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use step::{BoxFuture, Step, StepKind};

use crate::error::{Error, Result};
use crate::state::OnFailure;

/// One step of a run, fixed when the run starts: a unique name, the kind that
/// runs it and its JSON parameters.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StepInstance {
    /// Unique within the run (e.g. `server:web-1`).
    pub name: String,
    /// The step kind (handler) that runs it.
    pub kind: String,
    /// Parameters handed to the handler.
    pub params: Value,
}

impl StepInstance {
    /// An instance with serialized parameters.
    pub fn new(
        name: impl Into<String>,
        kind: impl Into<String>,
        params: &impl Serialize,
    ) -> Result<Self> {
        Ok(Self {
            name: name.into(),
            kind: kind.into(),
            params: serde_json::to_value(params)?,
        })
    }
}

type PlanFn = Arc<dyn Fn(&Value) -> Result<Vec<StepInstance>, String> + Send + Sync>;

/// A workflow definition.
///
/// Either *static*: steps added with [`step`](Self::step) run in order, each
/// instance named after its kind and handed the run input as parameters; or
/// *planned*: kinds registered with [`kind`](Self::kind) and a
/// [`plan`](Self::plan) computing the instances from the input at start.
#[derive(Clone)]
pub struct WorkflowDefinition {
    name: String,
    version: u32,
    kinds: HashMap<String, StepKind>,
    static_steps: Vec<String>,
    plan: Option<PlanFn>,
    on_failure: OnFailure,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for WorkflowDefinition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowDefinition")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("static_steps", &self.static_steps)
            .field("planned", &self.plan.is_some())
            .field("on_failure", &self.on_failure)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl WorkflowDefinition {
    /// An empty definition.
    pub fn new(name: impl Into<String>, version: u32) -> Self {
        Self {
            name: name.into(),
            version,
            kinds: HashMap::new(),
            static_steps: Vec::new(),
            plan: None,
            on_failure: OnFailure::default(),
            timeout: None,
        }
    }

    /// Adds a static step: its instance is named after its kind and receives
    /// the run input as parameters.
    pub fn step(mut self, step: impl Into<StepKind>) -> Self {
        let kind: StepKind = step.into();
        self.static_steps.push(kind.name().to_string());
        self.kinds.insert(kind.name().to_string(), kind);
        self
    }

    /// Registers a step kind for use by the plan.
    pub fn kind(mut self, step: impl Into<StepKind>) -> Self {
        let kind: StepKind = step.into();
        self.kinds.insert(kind.name().to_string(), kind);
        self
    }

    /// Sets the plan: computes the run's step instances from its typed input.
    /// An `Err` refuses the start (nothing is stored).
    pub fn plan<I, F>(mut self, plan: F) -> Self
    where
        I: DeserializeOwned,
        F: Fn(&I) -> Result<Vec<StepInstance>, String> + Send + Sync + 'static,
    {
        self.plan = Some(Arc::new(move |v: &Value| {
            let input = I::deserialize(v).map_err(|e| format!("input does not match: {e}"))?;
            plan(&input)
        }));
        self
    }

    /// What happens after a step's last failed attempt (default: compensate).
    pub fn on_failure(mut self, policy: OnFailure) -> Self {
        self.on_failure = policy;
        self
    }

    /// A deadline for the whole run, counted from its start. Past it, the
    /// running step is interrupted and the run fails (then follows
    /// [`on_failure`](Self::on_failure)).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The failure policy.
    pub fn failure_policy(&self) -> OnFailure {
        self.on_failure
    }

    /// The run timeout.
    pub fn run_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Looks a kind up.
    pub fn step_kind(&self, kind: &str) -> Option<&StepKind> {
        self.kinds.get(kind)
    }

    pub(crate) fn key(&self) -> String {
        def_key(&self.name, self.version)
    }

    /// Checks the definition itself (called on registration).
    pub(crate) fn validate(&self) -> Result<()> {
        let bad = |reason: String| Error::InvalidDefinition {
            definition: self.name.clone(),
            reason,
        };
        if self.name.is_empty() || self.name.contains('@') {
            return Err(bad("the name must be non-empty and contain no '@'".into()));
        }
        if self.plan.is_none() && self.static_steps.is_empty() {
            return Err(bad("no steps and no plan".into()));
        }
        if self.plan.is_some() && !self.static_steps.is_empty() {
            return Err(bad(
                "static steps and a plan are exclusive: register plan kinds with kind()".into(),
            ));
        }
        let mut seen = HashSet::new();
        for s in &self.static_steps {
            if !seen.insert(s) {
                return Err(bad(format!("step {s:?} appears twice")));
            }
        }
        Ok(())
    }

    /// Computes the instances of a run from its input, checking names and kinds.
    pub(crate) fn instances(&self, input: &Value) -> Result<Vec<StepInstance>> {
        let bad = |reason: String| Error::InvalidInput {
            definition: self.name.clone(),
            reason,
        };
        let list = match &self.plan {
            Some(plan) => plan(input).map_err(bad)?,
            None => self
                .static_steps
                .iter()
                .map(|k| StepInstance {
                    name: k.clone(),
                    kind: k.clone(),
                    params: input.clone(),
                })
                .collect(),
        };
        if list.is_empty() {
            return Err(bad("the plan produced no step".into()));
        }
        let mut seen = HashSet::new();
        for inst in &list {
            if inst.name.is_empty() {
                return Err(bad("a step name is empty".into()));
            }
            if !seen.insert(inst.name.as_str()) {
                return Err(bad(format!("step name {:?} is not unique", inst.name)));
            }
            let Some(kind) = self.kinds.get(&inst.kind) else {
                return Err(bad(format!(
                    "step {:?} uses unknown kind {:?}",
                    inst.name, inst.kind
                )));
            };
            kind.check_params(&inst.params).map_err(|e| {
                bad(format!(
                    "parameters of step {:?} do not match kind {:?}: {e}",
                    inst.name, inst.kind
                ))
            })?;
        }
        Ok(list)
    }
}

pub(crate) fn def_key(name: &str, version: u32) -> String {
    format!("{name}@{version}")
}
