//! The screens, one module each, at stable German paths.

mod akte;
mod dokument;
mod klaerung;
mod login;
mod postkorb;
mod seiten;
mod suche;
mod team;
mod uebernahme;

pub use akte::{akte, deckblatt, export, file_note, file_upload};
pub use dokument::{dokument, find_recipient, original};
pub use klaerung::klaerung;
pub use login::{login, login_form, logout, start};
pub use postkorb::{change_item, postkorb, postkorb_live};
pub use seiten::page_image;
pub use suche::{results, suche, suche_form};
pub use team::team;
pub use uebernahme::{
    decide as uebernahme_decide, form as uebernahme_form, receipt as uebernahme_receipt,
    receive as uebernahme_receive, show as uebernahme_show,
};

use super::error::WebError;
use askama::Template;
use axum::response::Html;

/// A template as a page; a template that cannot render is an internal error.
fn page(template: &impl Template) -> Result<Html<String>, WebError> {
    template.render().map(Html).map_err(WebError::internal)
}

/// Where a form may send the browser back to: one of our own paths.
fn own_path(wanted: &str, otherwise: &str) -> String {
    let ours = wanted.starts_with('/')
        && !wanted.starts_with("//")
        && !wanted.contains('\\')
        && !wanted.contains("://")
        && wanted.chars().all(|c| c.is_ascii_graphic());
    if ours { wanted } else { otherwise }.to_string()
}

#[cfg(test)]
mod tests {
    use super::own_path;

    #[test]
    fn only_own_paths_are_followed_back() {
        assert_eq!(
            own_path("/akten/07450BG0000101", "/"),
            "/akten/07450BG0000101"
        );
        for foreign in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil",
            "postkorb",
            "/a b",
        ] {
            assert_eq!(own_path(foreign, "/postkorb"), "/postkorb", "{foreign}");
        }
    }
}
