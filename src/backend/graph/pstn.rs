//! The Graph backend as a [`GraphGet`] for the PSTN call log (`getPstnCalls`), with the
//! backend's token, retries and `Retry-After` handling. The windows and paging are in
//! `crate::credits::pstn`.

use serde_json::Value;

use crate::credits::pstn::GraphGet;

use super::GraphBackend;

impl GraphGet for GraphBackend {
    fn get_json(&mut self, url: &str) -> Result<Value, String> {
        self.require(&[&super::permissions::READ_PSTN_CALLS])
            .map_err(|e| e.to_string())?;
        let client = &*self.client;
        self.block_on(async move { client.get(url).await })
            .map_err(|e| e.to_string())
    }
}
