//! Names as the jobcenter compares them.
//!
//! - Surname ranges (`von`–`bis`, e.g. `L`–`Z` or `Sch`–`Sz`) sort umlauts as their
//!   base letter (Ö as O) and ß as SS, ignore case, spaces, hyphens and accents.
//! - Recognising a person in a letter compares names folded the same way, and
//!   also folds the spellings people type without umlauts (`Mueller` = `Müller`).

/// The letters a surname is sorted by: upper case A–Z only.
pub fn range_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'ß' | 'ẞ' => out.push_str("SS"),
            c => {
                if let Some(base) = base_letter(c) {
                    out.push(base.to_ascii_uppercase());
                }
            }
        }
    }
    out
}

/// Whether `surname` falls into the range `von`–`bis` (both inclusive, compared
/// on as many initial letters as each bound has).
pub fn in_range(surname: &str, von: &str, bis: &str) -> bool {
    let key = range_key(surname);
    let prefix = |bound: &str| key.chars().take(bound.len()).collect::<String>();
    let (von, bis) = (range_key(von), range_key(bis));
    !key.is_empty() && prefix(&von) >= von && prefix(&bis) <= bis
}

/// A name or word folded for matching: lower case, umlauts and accents to the
/// base letter, `ae`/`oe`/`ue` as typed for umlauts folded the same way, ß as ss,
/// everything that is not a letter or digit dropped.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            c if c.is_ascii_digit() => out.push(c),
            c => {
                if let Some(base) = base_letter(c) {
                    out.push(base);
                }
            }
        }
    }
    out.replace("ae", "a").replace("oe", "o").replace("ue", "u")
}

/// The lower-case ASCII base letter of a Latin letter, if it is one.
fn base_letter(c: char) -> Option<char> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let base = match lower {
        'a'..='z' => lower,
        'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' => 'a',
        'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' => 'o',
        'ü' | 'ù' | 'ú' | 'û' => 'u',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ç' | 'ć' | 'č' => 'c',
        'ñ' | 'ń' => 'n',
        'ş' | 'š' | 'ś' => 's',
        'ğ' => 'g',
        'ı' => 'i',
        'ž' | 'ź' | 'ż' => 'z',
        'ł' => 'l',
        'ý' | 'ÿ' => 'y',
        _ => return None,
    };
    Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umlauts_sort_as_their_base_letter() {
        assert_eq!(range_key("Öztürk"), "OZTURK");
        assert_eq!(range_key("Weiß-Schulz"), "WEISSSCHULZ");
        assert!(in_range("Öztürk", "L", "Z"));
        assert!(!in_range("Öztürk", "A", "K"));
        assert!(in_range("Ärger", "A", "A"));
    }

    #[test]
    fn ranges_compare_on_the_bound_length() {
        assert!(in_range("Schmidt", "Sch", "Sz"));
        assert!(!in_range("Saar", "Sch", "Sz"));
        assert!(in_range("Zylla", "L", "Z"));
        assert!(in_range("Lange", "L", "Z"));
        assert!(!in_range("Kühn", "L", "Z"));
        assert!(!in_range("", "A", "Z"));
    }

    #[test]
    fn folding_meets_typed_spellings() {
        assert_eq!(fold("Müller"), fold("Mueller"));
        assert_eq!(fold("Straße"), fold("STRASSE"));
        assert_eq!(fold("Jean-Luc"), "jeanluc");
    }
}
