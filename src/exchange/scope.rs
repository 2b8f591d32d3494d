//! Which part of an Akte an export hands over. A recipient who moves away
//! takes only what the new jobcenter still needs: documents received within
//! some days, under some Schlagworte. The whole Akte is the empty scope.

use crate::model::Document;
use jiff::civil::Date;
use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// First German receipt day (Eingangsdatum) included.
    pub from: Option<Date>,
    /// Last German receipt day included.
    pub to: Option<Date>,
    /// Only these Schlagworte (all when empty).
    pub schlagworte: Vec<String>,
}

impl Scope {
    pub fn whole(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.schlagworte.is_empty()
    }

    /// Whether `document` lies within the scope. A document whose receipt
    /// time cannot be read lies within only an unbounded scope.
    pub fn includes(&self, document: &Document) -> bool {
        let schlagwort = document
            .classification
            .as_ref()
            .map(|c| c.schlagwort.as_str())
            .unwrap_or_default();
        if !self.schlagworte.is_empty() && !self.schlagworte.iter().any(|s| s == schlagwort) {
            return false;
        }
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some(at) = crate::timefmt::parse(&document.received_at) else {
            return false;
        };
        let day = crate::clock::german_date(at);
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }

    /// The scope as the audit trail and the cover page name it.
    pub fn describe(&self) -> String {
        if self.whole() {
            return "whole Akte".into();
        }
        let mut parts = Vec::new();
        if let Some(from) = self.from {
            parts.push(format!("from {from}"));
        }
        if let Some(to) = self.to {
            parts.push(format!("to {to}"));
        }
        if !self.schlagworte.is_empty() {
            parts.push(format!("schlagworte {}", self.schlagworte.join(", ")));
        }
        parts.join(", ")
    }

    /// The scope in German, for the cover page and the web UI.
    pub fn in_german(&self) -> String {
        if self.whole() {
            return "vollständige Akte".into();
        }
        let mut parts = Vec::new();
        match (self.from, self.to) {
            (Some(f), Some(t)) => parts.push(format!(
                "Eingang {} bis {}",
                crate::timefmt::german_day(f),
                crate::timefmt::german_day(t)
            )),
            (Some(f), None) => parts.push(format!("Eingang ab {}", crate::timefmt::german_day(f))),
            (None, Some(t)) => parts.push(format!("Eingang bis {}", crate::timefmt::german_day(t))),
            (None, None) => {}
        }
        if !self.schlagworte.is_empty() {
            parts.push(format!("Schlagworte: {}", self.schlagworte.join(", ")));
        }
        format!("Teilakte ({})", parts.join("; "))
    }
}
