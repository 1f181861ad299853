//! The real binary under GNU time, for the benchmarks that print an end-to-end figure.

use std::process::{Command, Stdio};

/// Runs `commcred ARGS` under `/usr/bin/time` (stdout discarded) and prints its wall time
/// and peak resident memory as "`commcred NAME` binary, end to end: S s, peak M MB".
pub fn print_binary_run(name: &str, configure: impl FnOnce(&mut Command)) {
    let mut cmd = Command::new("/usr/bin/time");
    cmd.args(["-f", "%e %M"])
        .arg(env!("CARGO_BIN_EXE_commcred"))
        .stdout(Stdio::null());
    configure(&mut cmd);
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) => {
            println!("`commcred {name}` binary: /usr/bin/time unavailable ({e})");
            return;
        }
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    match (
        fields.next(),
        fields.next().and_then(|k| k.parse::<u64>().ok()),
    ) {
        (Some(secs), Some(kb)) => println!(
            "`commcred {name}` binary, end to end: {secs} s, peak {} MB (exit {:?})",
            kb / 1024,
            out.status.code()
        ),
        _ => println!("`commcred {name}` binary: could not read GNU time's output: {last}"),
    }
}
