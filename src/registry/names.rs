//! Names as the jobcenter compares them.
//!
//! - Surname ranges (`von`–`bis`, e.g. `L`–`Z` or `Sch`–`Sz`) sort letters with
//!   diacritics as their base letter (Ö as O, Đ as D, Ș as S) and ß as SS, and
//!   ignore case, spaces and hyphens. A name with a letter eakte cannot sort has
//!   no key: it is routed to clearing rather than into a range by guesswork.
//! - Recognising a person in a letter compares words folded the same way; a
//!   registry name with umlauts also matches its typed spelling (`Müller` and
//!   `Mueller`), but `ae`/`oe`/`ue` in other names stay as they are (`Bauer` is
//!   not `Baur`).

/// The letters a surname is sorted by (upper case A–Z), or `None` if it has a
/// letter that cannot be sorted (or no letter at all).
pub fn range_key(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if let Some(base) = base_letters(c) {
            out.push_str(&base.to_ascii_uppercase());
        } else if c.is_alphabetic() {
            return None;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether `surname` falls into the range `von`–`bis` (both inclusive, compared
/// on as many initial letters as each bound has). A name without a key is in no
/// range.
pub fn in_range(surname: &str, von: &str, bis: &str) -> bool {
    let (Some(key), Some(von), Some(bis)) = (range_key(surname), range_key(von), range_key(bis))
    else {
        return false;
    };
    let prefix = |bound: &str| key.chars().take(bound.len()).collect::<String>();
    prefix(&von) >= von && prefix(&bis) <= bis
}

/// A word folded for matching: lower case, diacritics to the base letter, ß as
/// ss, hyphens and other marks dropped (`Petersen-Hansen` is one word).
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_digit() {
            out.push(c);
        } else if let Some(base) = base_letters(c) {
            out.push_str(&base);
        }
    }
    out
}

/// The folded spellings of a registry name word: as folded, and, if it has
/// umlauts, as typed without them (`Müller` -> `muller`, `mueller`).
pub fn spellings(word: &str) -> Vec<String> {
    let mut out = vec![fold(word)];
    if word
        .chars()
        .any(|c| matches!(c, 'ä' | 'ö' | 'ü' | 'Ä' | 'Ö' | 'Ü'))
    {
        let typed: String = word
            .chars()
            .map(|c| match c {
                'ä' | 'Ä' => "ae".to_string(),
                'ö' | 'Ö' => "oe".to_string(),
                'ü' | 'Ü' => "ue".to_string(),
                c => c.to_string(),
            })
            .collect();
        out.push(fold(&typed));
    }
    out
}

/// The lower-case ASCII letters a Latin letter is sorted and matched as.
fn base_letters(c: char) -> Option<String> {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let base = match lower {
        'a'..='z' => return Some(lower.to_string()),
        'ß' | 'ẞ' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'þ' => "th",
        'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' | 'ð' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' | 'ĝ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => "s",
        'ţ' | 'ť' | 'ŧ' | 'ț' => "t",
        'ü' | 'ù' | 'ú' | 'û' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        _ => return None,
    };
    Some(base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_sort_as_their_base_letter() {
        assert_eq!(range_key("Öztürk").as_deref(), Some("OZTURK"));
        assert_eq!(range_key("Weiß-Schulz").as_deref(), Some("WEISSSCHULZ"));
        assert_eq!(range_key("Đorđević").as_deref(), Some("DORDEVIC"));
        assert_eq!(range_key("Ștefănescu").as_deref(), Some("STEFANESCU"));
        assert_eq!(range_key("Řehák").as_deref(), Some("REHAK"));
        assert!(in_range("Öztürk", "L", "Z"));
        assert!(!in_range("Öztürk", "A", "K"));
        assert!(in_range("Đorđević", "A", "K"));
        assert!(in_range("Ärger", "A", "A"));
    }

    #[test]
    fn a_name_that_cannot_be_sorted_is_in_no_range() {
        assert_eq!(range_key("Ωmega"), None);
        assert_eq!(range_key("张"), None);
        assert!(!in_range("Ωmega", "A", "Z"));
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
    fn umlaut_names_match_their_typed_spelling_and_nothing_else() {
        assert!(spellings("Müller").contains(&fold("Mueller")));
        assert!(spellings("Müller").contains(&fold("MULLER")));
        assert!(!spellings("Bauer").contains(&fold("Baur")));
        assert_eq!(fold("Straße"), fold("STRASSE"));
        assert_eq!(fold("Petersen-Hansen"), "petersenhansen");
    }
}
