//! License changes refused only for want of a seat, waiting until another change frees one
//! (a chain of calling-plan swaps). Each is filed under the SKU it lacks a seat of, so that
//! a freed seat retries the changes waiting for that SKU and no others: retrying every
//! waiting change after every applied one made a large apply quadratic.

use std::collections::{HashMap, VecDeque};

use crate::backend::ApplyReport;
use crate::plan::Operation;
use crate::tenant::{Snapshot, TenantIndex};

/// Why a retried change failed: `true` when again only a seat was missing.
pub type SeatOnly = bool;

#[derive(Default)]
pub struct Waiting {
    /// Changes in the order they were refused, with the first refusal's message; `None`
    /// once applied.
    changes: Vec<Option<(Operation, String)>>,
    /// Positions in `changes` by the SKU (position in `subscribedSkus`) they wait for.
    by_sku: HashMap<usize, VecDeque<usize>>,
}

impl Waiting {
    /// Files a change refused for want of a seat. A change whose missing seat cannot be
    /// named (none of its SKUs is full) is not retried and stays failed.
    pub fn push(
        &mut self,
        snapshot: &Snapshot,
        index: &TenantIndex,
        op: Operation,
        message: String,
    ) {
        let starved = full_sku(snapshot, index, &op);
        let position = self.changes.len();
        self.changes.push(Some((op, message)));
        if let Some(sku) = starved {
            self.by_sku.entry(sku).or_default().push_back(position);
        }
    }

    /// After `applied` went through: while the SKUs it removed have free seats, retries the
    /// changes waiting for them, in the order they were refused; what those free in turn is
    /// retried too. `apply` applies one change.
    pub fn retry_after(
        &mut self,
        applied: &Operation,
        snapshot: &mut Snapshot,
        index: &TenantIndex,
        report: &mut ApplyReport,
        mut apply: impl FnMut(&mut Snapshot, &Operation) -> Result<(), SeatOnly>,
    ) {
        if self.by_sku.is_empty() {
            return;
        }
        let mut freed: VecDeque<usize> = removed_skus(index, applied).collect();
        while let Some(sku) = freed.pop_front() {
            while snapshot.subscribed_skus[sku].available_seats() >= 1 {
                let Some(position) = self.by_sku.get_mut(&sku).and_then(VecDeque::pop_front) else {
                    break;
                };
                let (op, message) = self.changes[position].take().expect("filed once");
                match apply(snapshot, &op) {
                    Ok(()) => {
                        freed.extend(removed_skus(index, &op));
                        report.applied.push(op);
                    }
                    Err(seat_only) => {
                        // Still short of another SKU's seat: wait for that one. Any other
                        // refusal does not go away with seats, so it is not retried.
                        let next = seat_only.then(|| full_sku(snapshot, index, &op)).flatten();
                        if let Some(next) = next.filter(|&n| n != sku) {
                            self.by_sku.entry(next).or_default().push_back(position);
                        }
                        self.changes[position] = Some((op, message));
                    }
                }
            }
        }
    }

    /// The changes that never went through, with the reason they were first refused.
    pub fn into_failed(self) -> impl Iterator<Item = (Operation, String)> {
        self.changes.into_iter().flatten()
    }
}

/// The first SKU `op` adds that has no free seat.
fn full_sku(snapshot: &Snapshot, index: &TenantIndex, op: &Operation) -> Option<usize> {
    let Operation::AssignLicenses { add, .. } = op else {
        return None;
    };
    add.iter()
        .filter_map(|s| index.sku(&s.sku_id))
        .find(|&i| snapshot.subscribed_skus[i].available_seats() < 1)
}

/// The SKUs whose seats `op` may free.
fn removed_skus<'a>(index: &'a TenantIndex, op: &'a Operation) -> impl Iterator<Item = usize> + 'a {
    let removed = match op {
        Operation::AssignLicenses { remove, .. } => remove.as_slice(),
        _ => &[],
    };
    removed.iter().filter_map(|s| index.sku(&s.sku_id))
}
