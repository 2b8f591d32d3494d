//! How well a text was read, against its ground truth: the share of the truth's
//! words found in the same order (longest common subsequence of words), and the
//! share found at all (bag of words). Words are compared case-folded, without
//! punctuation at their ends.

/// The text of a document as `eakte show --json` gives it, pages one after
/// the other.
pub fn document_text(doc: &serde_json::Value) -> String {
    doc["pages"]
        .as_array()
        .map(|pages| {
            pages
                .iter()
                .filter_map(|p| p["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// The words of `text`, folded for comparison.
pub fn words(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Share of the words of `truth` that `read` has in the same order (0–1).
pub fn in_order(truth: &str, read: &str) -> f64 {
    let (t, r) = (words(truth), words(read));
    if t.is_empty() {
        return 1.0;
    }
    // Classic LCS by dynamic programming, one row at a time.
    let mut row = vec![0usize; r.len() + 1];
    for tw in &t {
        let mut diagonal = 0;
        for (j, rw) in r.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if tw == rw {
                diagonal + 1
            } else {
                above.max(row[j])
            };
            diagonal = above;
        }
    }
    row[r.len()] as f64 / t.len() as f64
}

/// Share of the words of `truth` that `read` has anywhere, each as often (0–1).
pub fn found(truth: &str, read: &str) -> f64 {
    let t = words(truth);
    if t.is_empty() {
        return 1.0;
    }
    let mut left: std::collections::HashMap<String, usize> = Default::default();
    for w in words(read) {
        *left.entry(w).or_default() += 1;
    }
    let hits = t
        .iter()
        .filter(|w| match left.get_mut(*w) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count();
    hits as f64 / t.len() as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn interleaved_columns_score_lower_in_order_but_alike_as_a_bag() {
        let truth = "a b c d e f";
        assert_eq!(super::in_order(truth, "A, b. c d e f"), 1.0);
        let interleaved = "a d b e c f";
        assert!(super::in_order(truth, interleaved) < 0.7);
        assert_eq!(super::found(truth, interleaved), 1.0);
        assert_eq!(super::found(truth, "a a a"), 1.0 / 6.0);
    }
}
