//! `commcred ledger`: the credits ledger used on Microsoft Graph. `record` writes what a
//! person reads in the Microsoft 365 admin center (the billing account and the funds left);
//! `show` prints what the ledger knows and its estimate of today's balance.

use std::process::ExitCode;

use clap::ValueEnum;
use commcred::tenant::BillingAccountType;
use commcred::workflow::ledger::{self, Reading};
use miette::Result;

use super::common::LedgerLocation;
use super::context::{GlobalArgs, now, require_actor};
use super::output::Output;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    commcred ledger record --billing-account MOSA --fund 120.50@2026-03-15\n  \
    commcred ledger show")]
pub struct Args {
    #[command(subcommand)]
    pub command: LedgerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// Record the account as the Microsoft 365 admin center shows it (Billing > Your
    /// products > Communication Credits): the billing account type and the funds left.
    /// Creates the ledger; later, replaces its funds with what you read (a reconciliation).
    Record(RecordArgs),
    /// Print the ledger: funds with their expiry, settings, who confirmed what, usage.
    Show(ShowArgs),
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum BillingAccount {
    /// Microsoft Online Subscription Agreement: the only kind that can buy credits.
    #[value(name = "MOSA")]
    Mosa,
    /// Microsoft Customer Agreement: post-paid overage instead of credits.
    #[value(name = "MCA")]
    Mca,
    /// Cloud Solution Provider: the partner funds credits.
    #[value(name = "CSP")]
    Csp,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  commcred ledger record --billing-account MOSA \
                        --fund 35.00@2025-12-01 --fund 120.50@2026-03-15"
)]
pub struct RecordArgs {
    #[command(flatten)]
    pub ledger: LedgerLocation,
    /// The billing account type (required when the ledger is new).
    #[arg(long, value_enum, value_name = "TYPE")]
    pub billing_account: Option<BillingAccount>,
    /// The account's currency (default: the YAML's communicationsCredits.currency).
    #[arg(long, value_name = "CODE")]
    pub currency: Option<String>,
    /// Money left in one purchase, and when it was bought (its expiry is 12 months later):
    /// AMOUNT@YYYY-MM-DD. Without a date, the purchase counts as made now. Repeat for each
    /// purchase still holding money; `--fund 0` records an empty account.
    #[arg(long, value_name = "AMOUNT[@DATE]")]
    pub fund: Vec<String>,
    /// Who read the balance, as recorded in the ledger (default: the login name).
    /// Same flag as `apply --confirmed-by`; `--by` is its old spelling.
    #[arg(long, alias = "by", env = "COMMCRED_CONFIRMED_BY", value_name = "NAME")]
    pub confirmed_by: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  commcred ledger show --config commcred.yaml")]
pub struct ShowArgs {
    #[command(flatten)]
    pub ledger: LedgerLocation,
}

pub fn run(args: Args, global: &GlobalArgs, out: &Output) -> Result<ExitCode> {
    let now = now()?;
    let text = match args.command {
        LedgerCommand::Record(args) => {
            let (path, config) = args.ledger.resolve()?;
            let reading = Reading {
                billing_account: args.billing_account.map(billing),
                currency: args.currency,
                fund: args.fund,
                by: require_actor(args.confirmed_by.as_deref())?,
            };
            ledger::record(&path, config.as_ref(), reading, now, global.lock_wait())?
        }
        LedgerCommand::Show(args) => {
            let (path, _) = args.ledger.resolve()?;
            ledger::show(&path, now)?
        }
    };
    out.result(&text);
    Ok(ExitCode::SUCCESS)
}

fn billing(b: BillingAccount) -> BillingAccountType {
    match b {
        BillingAccount::Mosa => BillingAccountType::Mosa,
        BillingAccount::Mca => BillingAccountType::Mca,
        BillingAccount::Csp => BillingAccountType::Csp,
    }
}
