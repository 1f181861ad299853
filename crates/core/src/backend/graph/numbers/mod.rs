//! Phone numbers on Microsoft Graph (Teams' telephone number management, v1.0, global
//! service only): reading the inventory and the users' Teams configuration (`read.rs`),
//! placing and following number orders (`poll.rs`), and applying a plan's number changes
//! after its license changes (`write.rs`). The pages each follows are named in
//! docs/graph.md ("Phone numbers and Teams user configurations").

mod poll;
pub(crate) mod read;
mod write;

pub(crate) use write::NumberRun;
