//! The one way commcred asks a person something: the question on stderr, one line of answer
//! from stdin. Used by `apply`'s `yes` and by the guided credits steps' `done`/`skip`.

use std::io::BufRead;

use miette::{Result, miette};

/// Asks `question` and returns the trimmed answer, or `None` when stdin has ended.
pub fn ask(question: &str) -> Result<Option<String>> {
    eprint!("{question}");
    let mut answer = String::new();
    let read = std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| miette!("cannot read the answer: {e}"))?;
    Ok((read > 0).then(|| answer.trim().to_string()))
}
