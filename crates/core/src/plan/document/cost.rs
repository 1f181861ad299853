//! The plan's seats and monthly cost in the JSON document (format 1.3, docs/cost.md):
//! `seat_changes` (seats taken and freed per SKU, always) and `cost` (with a price list).

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::groups::sku_from as sku_from_doc;
use super::{LicenseDoc, license_doc};
use crate::base::money::Amount;
use crate::config::Term;
use crate::plan::SeatChange;
use crate::plan::cost::{CostLine, PlanCost};

/// Seats of one SKU the plan takes and frees (one per user and SKU however many paths;
/// a group change counts the members who newly take a seat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatChangeDoc {
    pub license: LicenseDoc,
    pub added: usize,
    pub freed: usize,
}

/// What the seat changes cost per month, from the price list (`prices:` in commcred.yaml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostDoc {
    /// ISO 4217 code of the price list; every amount here is in it.
    pub currency: String,
    /// The price list's `asOf` date.
    #[schemars(with = "Option<String>", extend("format" = "date"))]
    pub as_of: Option<NaiveDate>,
    /// The price list file, as commcred.yaml names it.
    pub price_list: String,
    /// Priced SKUs whose seats change.
    pub seats: Vec<CostLineDoc>,
    /// SKUs whose seats change without a price: not counted (never as zero).
    pub unpriced: Vec<SeatChangeDoc>,
    /// Sum of `seats[].monthly_change`: positive costs more, negative saves.
    pub monthly_change: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostLineDoc {
    pub license: LicenseDoc,
    pub added: usize,
    pub freed: usize,
    /// Per seat and month.
    pub monthly_price: Amount,
    /// `monthly` or `annual`: seats freed on an annual term are saved at renewal.
    #[schemars(with = "String", extend("enum" = ["monthly", "annual"]))]
    pub term: Term,
    /// `(added - freed) x monthly_price`.
    pub monthly_change: Amount,
}

pub fn seat_doc(s: &SeatChange) -> SeatChangeDoc {
    let SeatChange { sku, added, freed } = s;
    SeatChangeDoc {
        license: license_doc(sku),
        added: *added,
        freed: *freed,
    }
}

pub fn seat_from_doc(d: &SeatChangeDoc) -> SeatChange {
    SeatChange {
        sku: sku_from_doc(&d.license),
        added: d.added,
        freed: d.freed,
    }
}

pub fn cost_doc(c: &PlanCost) -> CostDoc {
    let PlanCost {
        currency,
        as_of,
        price_list,
        lines,
        unpriced,
        monthly_change,
    } = c;
    CostDoc {
        currency: currency.clone(),
        as_of: *as_of,
        price_list: price_list.clone(),
        seats: lines
            .iter()
            .map(|l| {
                let CostLine {
                    sku,
                    added,
                    freed,
                    monthly_price,
                    term,
                    monthly_change,
                } = l;
                CostLineDoc {
                    license: license_doc(sku),
                    added: *added,
                    freed: *freed,
                    monthly_price: *monthly_price,
                    term: *term,
                    monthly_change: *monthly_change,
                }
            })
            .collect(),
        unpriced: unpriced.iter().map(seat_doc).collect(),
        monthly_change: *monthly_change,
    }
}

pub fn cost_from_doc(d: &CostDoc) -> PlanCost {
    PlanCost {
        currency: d.currency.clone(),
        as_of: d.as_of,
        price_list: d.price_list.clone(),
        lines: d
            .seats
            .iter()
            .map(|l| CostLine {
                sku: sku_from_doc(&l.license),
                added: l.added,
                freed: l.freed,
                monthly_price: l.monthly_price,
                term: l.term,
                monthly_change: l.monthly_change,
            })
            .collect(),
        unpriced: d.unpriced.iter().map(seat_from_doc).collect(),
        monthly_change: d.monthly_change,
    }
}
