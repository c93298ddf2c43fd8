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
//! `-` and the word: `f-access-announced`.

pub mod answers;
pub mod bodymap;
pub mod correct;
mod draft;
pub mod register;
pub mod render;
pub mod routes;
pub(crate) mod script;
pub mod spec;
pub mod zone;

pub use routes::routes;
