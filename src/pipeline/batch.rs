//! Batches: a stack of post scanned in one go (Stapelscan), cut into one
//! document per letter at its separator sheets (Trennblätter) and Deckblätter.
//!
//! - A separator sheet ends one letter and starts the next; it is in neither
//!   (the stack keeps it), nor is its empty back.
//! - A Deckblatt starts a letter and stays its first page: it says whose it is.
//! - A cut that would leave a letter without a page worth reading (two
//!   separators in a row, one at the start or end, only empty backs between)
//!   is not made.
//! - A stack that yields fewer than two letters is not cut at all: it is one
//!   document, its separator pages marked as such.
//!
//! The stack itself is stored too, bit-exact, without a postbox item (it holds
//! letters of different recipients, so nobody's scope covers it); every letter
//! cut from it records the stack and its page numbers there
//! ([`crate::model::BatchPart`]), and the stack lists its letters, so the scan
//! office can prove that every page went somewhere.

use crate::model::{Page, PageSource};

/// The letters of a stack: for each, the indices (0-based) of its pages in
/// the stack; `None` when the stack is one document.
pub fn cut(pages: &[Page]) -> Option<Vec<Vec<usize>>> {
    let mut letters: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut behind_separator = false;
    for (i, page) in pages.iter().enumerate() {
        match page.source {
            PageSource::Separator => {
                close(pages, &mut letters, &mut current);
                behind_separator = true;
            }
            PageSource::CoverSheet => {
                close(pages, &mut letters, &mut current);
                current.push(i);
                behind_separator = false;
            }
            // The separator sheet's empty back (duplex) belongs to the sheet.
            PageSource::Blank if behind_separator => {}
            _ => {
                current.push(i);
                behind_separator = false;
            }
        }
    }
    close(pages, &mut letters, &mut current);
    (letters.len() >= 2).then_some(letters)
}

/// End the letter being gathered, if it has a page worth keeping.
fn close(pages: &[Page], letters: &mut Vec<Vec<usize>>, current: &mut Vec<usize>) {
    let worth = current
        .iter()
        .any(|&i| pages[i].source != PageSource::Blank);
    let gathered = std::mem::take(current);
    if worth {
        letters.push(gathered);
    }
}

/// The pages of one letter, numbered from 1 as its own document.
pub fn pages_of(stack: &[Page], letter: &[usize]) -> Vec<Page> {
    letter
        .iter()
        .enumerate()
        .map(|(n, &i)| Page {
            number: n as u32 + 1,
            ..stack[i].clone()
        })
        .collect()
}

/// The stack's own page records: how each page was found, without the text,
/// which lives in the letters (searching finds each letter once).
pub fn stack_pages(stack: &[Page]) -> Vec<Page> {
    stack
        .iter()
        .map(|p| Page {
            text: String::new(),
            ..p.clone()
        })
        .collect()
}

/// "1–3, 5" for the scan office: the stack's pages of a letter (1-based).
pub fn page_list(numbers: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        let mut end = start;
        while i + 1 < numbers.len() && numbers[i + 1] == end + 1 {
            i += 1;
            end = numbers[i];
        }
        out.push(if end > start {
            format!("{start}–{end}")
        } else {
            start.to_string()
        });
        i += 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(kinds: &str) -> Vec<Page> {
        kinds
            .chars()
            .enumerate()
            .map(|(i, k)| Page {
                number: i as u32 + 1,
                text: format!("Seite {}", i + 1),
                confidence: None,
                source: match k {
                    'T' => PageSource::Separator,
                    'D' => PageSource::CoverSheet,
                    '_' => PageSource::Blank,
                    _ => PageSource::Ocr,
                },
                rotation: 0,
                code: None,
            })
            .collect()
    }

    #[test]
    fn separators_cut_and_are_in_no_letter_with_their_backs() {
        // letter, back, separator, its back, letter, back, separator, back, letter
        assert_eq!(
            cut(&stack("L_T_L_T_L")),
            Some(vec![vec![0, 1], vec![4, 5], vec![8]])
        );
    }

    #[test]
    fn a_deckblatt_starts_a_letter_and_stays_in_it() {
        assert_eq!(
            cut(&stack("LLD_LL")),
            Some(vec![vec![0, 1], vec![2, 3, 4, 5]])
        );
        assert_eq!(cut(&stack("D_LL")), None, "one letter behind its Deckblatt");
    }

    #[test]
    fn no_cut_makes_an_empty_letter() {
        assert_eq!(cut(&stack("TLL")), None, "separator on top");
        assert_eq!(cut(&stack("LLT_")), None, "separator at the end");
        assert_eq!(cut(&stack("LTTL")), Some(vec![vec![0], vec![3]]));
        assert_eq!(cut(&stack("LT__T_L")), Some(vec![vec![0], vec![6]]));
        assert_eq!(cut(&stack("LLLL")), None);
        assert_eq!(cut(&stack("L_T__")), None, "only empty backs behind");
    }

    #[test]
    fn page_lists_read_as_ranges() {
        assert_eq!(page_list(&[1, 2, 3, 5, 7, 8]), "1–3, 5, 7–8");
        assert_eq!(page_list(&[4]), "4");
    }
}
