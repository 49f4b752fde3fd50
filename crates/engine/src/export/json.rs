//! JSON: the result exactly as the model types serialize it, pretty-printed.
//!
//! The shape is documented field by field in `claimbench_model::load` and checked by
//! `fixtures/schema/load-result.schema.json`.

use claimbench_model::load::LoadResult;

use super::Exporter;
use crate::error::ExportError;

pub(super) struct Json;

impl Exporter for Json {
    fn name(&self) -> &'static str {
        "JSON"
    }

    fn render(&self, result: &LoadResult) -> Result<Vec<u8>, ExportError> {
        let mut bytes = serde_json::to_vec_pretty(result)
            .map_err(|e| ExportError::Encode { format: self.name(), reason: e.to_string() })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}
