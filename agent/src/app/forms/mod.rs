//! The record forms: one per record kind, generated from the core's
//! vocabularies and limits (`hearth-shared`), so that forms and core cannot
//! drift.
//!
//! - [`spec`]: each kind's fields (label, hint, required, input), with
//!   choices from the core's `WORDS` and limits from its `Text<N>` types;
//! - [`answers`]: what the browser posts, in order, as the record's JSON
//!   form, checked by the core's `parse_body` with every problem collected;
//! - [`zone`]: local dates and times, with the zone shown;
//! - [`render`]: the forms and "check your answers" as HTML; [`bodymap`]:
//!   the injuries' body map;
//! - [`routes`]: the forms and drafts; [`register`]: the nursery register;
//!   [`correct`]: amend and "entered in error" from a record's page.
//!
//! ## Field ids (stable: the browser tests use them)
//!
//! A field's form name is its path in the record's JSON form without the
//! kind: `headline`, `children[0]`, `observations[1].grade`,
//! `injuries[0].body_region`; the date and time are `occurred_at.date` and
//! `occurred_at.time`. Its HTML id is `f-` then the name with `[` and `.`
//! made `-` and `]` dropped: `f-headline`, `f-children-0`,
//! `f-observations-1-grade` ([`answers::field_id`]). A radio's id adds
//! `-` and the word: `f-access-announced` (a scale's, the number:
//! `f-observations-0-grade-4`; yes/no and ticks, `-yes`, `-no`, `-`).
//! An error message beside a field is `<id>-error`; a byte counter
//! `<id>-count`; a whole group's block is its id (`f-injuries`), each entry
//! `f-injuries-0`.
//!
//! Buttons: `_action` = `check` ("Continue"), `save` ("Save draft"),
//! `add:<group>` ("Add another"). The check page's Confirm posts to
//! `/drafts/{id}/confirm`; "Saved" shows the new id in `#record-id`.
//!
//! Pages: `/forms` (kinds `#new-<kind>`, drafts), `/forms/<kind>`,
//! `/drafts/{id}`, `/drafts/{id}/check`, `/register` (authors
//! `#author-<worker>`; per child `#child-nhs-9434765919` with
//! `-present` and `-late`, `-hungry`, `-hygiene`, `-clothing`, `-nappy`,
//! `-injury`, `-absent_with_reason`, `-absent_unexplained`),
//! `/records/{id}/amend` (reason `#f-reason`), `/records/{id}/retract`
//! (`#f-reason`). Body map regions: `#<region word>` (`#arm`, then
//! `#arm-2`…), `#other`.

pub mod answers;
pub mod bodymap;
pub mod correct;
mod draft;
pub mod register;
pub mod render;
pub mod routes;
pub mod spec;
pub mod zone;

#[cfg(test)]
mod caseload_tests;

pub use routes::routes;
