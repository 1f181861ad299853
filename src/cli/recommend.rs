//! `commcred recommend`: funding advice (minimumBalance, triggerBelow, rechargeAmount) from
//! real usage, as a YAML snippet with the reasoning in comments.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use commcred::config::DesiredState;
use commcred::credits::recommend::{Recommendation, recommend, render_not_prepaid, render_yaml};
use commcred::tenant::BillingAccountType;
use commcred::workflow::recommend::{self as advice, AdviceUsage};
use miette::Result;

use super::context::{GlobalArgs, config_path, load_config, session};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  commcred recommend --usage PSTN.calls.2026-11-25.csv\n  \
                        commcred recommend commcred.yaml   # usage from the ledger and the live tenant"
)]
pub struct Args {
    /// "PSTN and SMS usage" exports from the Teams admin center (repeatable). Without it,
    /// the usage comes from CONFIG's live tenant and credits ledger (and Microsoft Graph's
    /// call log on the graph backend).
    #[arg(long, value_name = "FILE.csv")]
    pub usage: Vec<PathBuf>,
    /// The desired state, when the usage comes from the live tenant (default: ./commcred.yaml).
    pub config: Option<PathBuf>,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let session = session(global)?;
    let now = session.now;
    let config = account_config(&args, out)?;
    let AdviceUsage {
        rows,
        first,
        source,
        billing,
    } = if args.usage.is_empty() {
        let desired = config.as_ref().expect("loaded when no --usage is given");
        advice::from_tenant(&session, desired, &|note| out.info(note))?
    } else {
        advice::from_files(&args.usage)?
    };
    if rows.is_empty() && args.usage.is_empty() {
        out.result(&format!(
            "# commcred recommend: no PSTN usage found ({source}), so there is no advice yet.\n\
             # Export \"PSTN and SMS usage\" from the Teams admin center (Analytics & reports >\n\
             # Usage reports > Export to Excel), then run:\n\
             #   commcred recommend --usage FILE.csv\n\
             # or keep it for every plan: commcred usage import FILE.csv\n"
        ));
        return Ok(ExitCode::SUCCESS);
    }
    let mut recs = recommend(&rows, first, now);
    let currency = config
        .as_ref()
        .and_then(|d| d.credits.as_ref())
        .map(|c| c.currency.to_ascii_uppercase());
    let mut text = keep_account_currency(&mut recs, currency.as_deref());
    // The live account says how calls are paid; otherwise commcred.yaml's `billingAccount`.
    let billing = billing.or_else(|| {
        config
            .as_ref()
            .and_then(|d| d.billing_account.as_ref().map(|b| b.kind))
    });
    match billing {
        Some(kind) if kind != BillingAccountType::Mosa => {
            text.push_str(&render_not_prepaid(&recs, kind, &source))
        }
        _ => text.push_str(&render_yaml(&recs, &source)),
    }
    out.result(&text);
    Ok(ExitCode::SUCCESS)
}

/// The config, when there is one: it names the account's currency.
fn account_config(args: &Args, out: &Output) -> Result<Option<DesiredState>> {
    Ok(match (&args.config, args.usage.is_empty()) {
        (Some(path), _) => Some(load_config(path)?),
        (None, true) => Some(load_config(&config_path(None))?),
        // Only a hint here (the usage files are what was asked about): a config that does
        // not load is skipped, and said so.
        (None, false) if Path::new("commcred.yaml").exists() => {
            let loaded = load_config(Path::new("commcred.yaml")).ok();
            if loaded.is_none() {
                out.info(
                    "./commcred.yaml does not load (run `commcred validate`), so its currency is not known: advice for every currency in the usage",
                );
            }
            loaded
        }
        (None, false) => None,
    })
}

/// Keeps only the advice in the account's currency (an account has one), and returns the
/// comment lines that say what was left out, or that the currency is unknown.
fn keep_account_currency(recs: &mut Vec<Recommendation>, currency: Option<&str>) -> String {
    let mut text = String::new();
    if let Some(currency) = currency {
        let others: Vec<String> = recs
            .iter()
            .filter(|r| r.currency != currency)
            .map(|r| {
                format!(
                    "{} ({} call{})",
                    r.currency,
                    r.calls,
                    if r.calls == 1 { "" } else { "s" }
                )
            })
            .collect();
        if !others.is_empty() {
            text.push_str(&format!(
                "# Left out: calls charged in {}. The credits account in commcred.yaml is in {currency},\n\
                 # and an account has one currency.\n",
                others.join(", ")
            ));
        }
        recs.retain(|r| r.currency == currency);
    } else if recs.len() > 1 {
        text.push_str(
            "# Several currencies and no commcred.yaml to say which is the account's: give it as\n\
             # CONFIG (commcred recommend --usage FILE.csv commcred.yaml) to keep only that one.\n",
        );
    }
    text
}
