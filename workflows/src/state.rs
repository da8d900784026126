//! Workflow and step states (the state machine is described in docs/workflows.md).

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The lifecycle state of a workflow run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowState {
    /// Started, no step attempted yet.
    Pending,
    /// Running its steps forward (possibly waiting for a retry).
    Running,
    /// Every step succeeded. Terminal.
    Succeeded,
    /// A step (or a compensation) ran out of attempts or failed terminally and
    /// the definition asks for an operator. Terminal until an operator acts.
    Failed,
    /// Cancel requested: the running step is being interrupted, then completed
    /// steps are compensated in reverse order.
    Cancelling,
    /// Compensating completed steps in reverse order after a failure (or on
    /// operator request).
    Compensating,
    /// Compensation finished after a failure. Terminal.
    Compensated,
    /// Compensation finished after a cancel. Terminal.
    Cancelled,
}

impl WorkflowState {
    /// Every state, in documentation order.
    pub const ALL: [WorkflowState; 8] = [
        Self::Pending,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Cancelling,
        Self::Compensating,
        Self::Compensated,
        Self::Cancelled,
    ];

    /// The name stored in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelling => "cancelling",
            Self::Compensating => "compensating",
            Self::Compensated => "compensated",
            Self::Cancelled => "cancelled",
        }
    }

    /// True when no worker will touch the run again without an operator.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            Self::Succeeded | Self::Failed | Self::Compensated | Self::Cancelled
        )
    }

    /// True while the run moves backwards (undoing steps).
    pub fn is_backward(&self) -> bool {
        matches!(self, Self::Cancelling | Self::Compensating)
    }
}

impl fmt::Display for WorkflowState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WorkflowState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::Corrupt(format!("unknown workflow state {s:?}")))
    }
}

/// The state of one step of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    /// Not attempted yet.
    Pending,
    /// An attempt's intent is recorded; its effect may or may not have happened.
    Running,
    /// The output is checkpointed.
    Succeeded,
    /// Out of attempts or failed terminally.
    Failed,
    /// Its compensation is being attempted.
    Compensating,
    /// Its compensation succeeded (or it had none).
    Compensated,
    /// Its compensation ran out of attempts or failed terminally.
    CompensationFailed,
}

impl StepState {
    /// Every state.
    pub const ALL: [StepState; 7] = [
        Self::Pending,
        Self::Running,
        Self::Succeeded,
        Self::Failed,
        Self::Compensating,
        Self::Compensated,
        Self::CompensationFailed,
    ];

    /// The name stored in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Compensating => "compensating",
            Self::Compensated => "compensated",
            Self::CompensationFailed => "compensation_failed",
        }
    }
}

impl fmt::Display for StepState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StepState {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| Error::Corrupt(format!("unknown step state {s:?}")))
    }
}

/// Which handler of a step an attempt ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The step's handler.
    Forward,
    /// The step's compensation handler.
    Compensate,
}

impl Phase {
    /// The name stored in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Forward => "forward",
            Self::Compensate => "compensate",
        }
    }
}

impl FromStr for Phase {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "forward" => Ok(Self::Forward),
            "compensate" => Ok(Self::Compensate),
            _ => Err(Error::Corrupt(format!("unknown phase {s:?}"))),
        }
    }
}

/// What happens when a step runs out of attempts or fails terminally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFailure {
    /// Compensate completed steps in reverse order, ending `compensated`.
    #[default]
    Compensate,
    /// Stop in `failed` and wait for an operator (retry, compensate, resume).
    WaitForOperator,
}

impl OnFailure {
    /// The name stored in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Compensate => "compensate",
            Self::WaitForOperator => "wait_for_operator",
        }
    }
}

impl FromStr for OnFailure {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "compensate" => Ok(Self::Compensate),
            "wait_for_operator" => Ok(Self::WaitForOperator),
            _ => Err(Error::Corrupt(format!("unknown failure policy {s:?}"))),
        }
    }
}
