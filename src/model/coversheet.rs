//! The code in the QR of eakte's return cover sheet (Deckblatt), as text:
//!
//! ```text
//! EAKTE-DB1;BG=07450BG0000001;IT=42;JC=01054;MAC=3f2a9c0d1b7e6a55
//! ```
//!
//! `IT` (the item whose thread the answer continues) is optional. `JC` is the
//! issuing jobcenter's key, `MAC` the first 64 bits of an HMAC-SHA256 under the
//! deployment's key over everything before `;MAC=`, in hex: the sheet is trusted
//! only when it matches, so a forged or mistyped sheet routes nowhere by itself.
//! The fields are plain ASCII so that the QR stays small (version 4, 33 × 33
//! modules) and reads on a fax-quality scan.

/// What a Deckblatt's code says. The BG is as printed, not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverCode {
    pub bg: String,
    pub item: Option<u64>,
    pub jobcenter: String,
    /// Hex, as printed.
    pub mac: String,
}

impl CoverCode {
    pub const PREFIX: &'static str = "EAKTE-DB1";

    /// The part the check value covers.
    pub fn signed_part(bg: &str, item: Option<u64>, jobcenter: &str) -> String {
        let mut out = format!("{};BG={bg}", Self::PREFIX);
        if let Some(item) = item {
            out.push_str(&format!(";IT={item}"));
        }
        out.push_str(&format!(";JC={jobcenter}"));
        out
    }

    /// The code as the QR carries it.
    pub fn text(&self) -> String {
        format!(
            "{};MAC={}",
            Self::signed_part(&self.bg, self.item, &self.jobcenter),
            self.mac
        )
    }

    /// Read a code; `None` for anything that is not one (any other barcode).
    pub fn parse(text: &str) -> Option<CoverCode> {
        let mut fields = text.trim().split(';');
        if fields.next()? != Self::PREFIX {
            return None;
        }
        let (mut bg, mut item, mut jobcenter, mut mac) = (None, None, None, None);
        for field in fields {
            let (name, value) = field.split_once('=')?;
            let slot = match name {
                "BG" => &mut bg,
                "IT" => {
                    item = Some(value.parse::<u64>().ok()?);
                    continue;
                }
                "JC" => &mut jobcenter,
                "MAC" => &mut mac,
                _ => return None,
            };
            if slot.replace(value.to_string()).is_some() {
                return None; // a field twice: not a code eakte wrote
            }
        }
        Some(CoverCode {
            bg: bg?,
            item,
            jobcenter: jobcenter?,
            mac: mac?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CoverCode;

    #[test]
    fn a_code_reads_back_and_anything_else_is_none() {
        let code = CoverCode {
            bg: "07450BG0000001".into(),
            item: Some(42),
            jobcenter: "01054".into(),
            mac: "00ff".into(),
        };
        assert_eq!(
            code.text(),
            "EAKTE-DB1;BG=07450BG0000001;IT=42;JC=01054;MAC=00ff"
        );
        assert_eq!(CoverCode::parse(&code.text()), Some(code.clone()));
        let without_item = CoverCode { item: None, ..code };
        assert_eq!(CoverCode::parse(&without_item.text()), Some(without_item));
        for other in [
            "PATCHT",
            "EAKTE-DB1;BG=1;JC=2",
            "EAKTE-DB1;BG=1;BG=2;JC=2;MAC=1",
            "EAKTE-DB1;BG=1;IT=x;JC=2;MAC=1",
            "EAKTE-DB2;BG=1;JC=2;MAC=1",
        ] {
            assert_eq!(CoverCode::parse(other), None, "{other}");
        }
    }
}
