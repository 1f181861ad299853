//! Text helpers for messages.

/// Lists at most `limit` names, then "and N more".
pub fn list_some(names: &[String], limit: usize) -> String {
    if names.len() <= limit {
        names.join(", ")
    } else {
        format!(
            "{} and {} more",
            names[..limit].join(", "),
            names.len() - limit
        )
    }
}
