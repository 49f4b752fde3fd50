//! The per-request steps of the worker loop, exposed for the criterion benches only: building a
//! request from a prepared template, and judging a response (error class and sampled check).
//! Not part of the engine's API; the worker uses the same functions.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;

use crate::error::EngineError;
use crate::plan::{Plan, PreparedTemplate};

/// A plan's templates, prepared once as the worker prepares them.
pub struct Prepared {
    templates: Vec<PreparedTemplate>,
}

impl Prepared {
    /// Prepares `plan`'s templates (checks them the way `run` does).
    pub fn new(plan: &Plan) -> Result<Prepared, EngineError> {
        Ok(Prepared { templates: plan.validate()?.templates })
    }

    /// The request the worker would send for template `index`.
    pub fn build(&self, index: usize) -> Request<Full<Bytes>> {
        crate::worker::build(&self.templates[index])
    }

    /// True when a response with `status` and `body` counts as a success for template `index`:
    /// no 4xx/5xx error class, and the sampled expectation holds.
    pub fn judge(&self, index: usize, status: u16, body: &Bytes) -> bool {
        let t = &self.templates[index];
        let expected = t.expect.as_ref().and_then(|e| e.status);
        crate::worker::status_error(status, expected).is_none()
            && crate::worker::matches_expectation(t.expect.as_ref(), status, body)
    }
}
