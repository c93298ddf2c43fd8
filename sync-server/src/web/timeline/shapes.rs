//! The marks' shapes, one per kind of record, so that a kind reads without
//! colour (and printed in black and white): each is an SVG path centred on
//! the origin, defined once in the picture's `<defs>` and placed with
//! `<use href="#tl-shape-…" x y>` (a few bytes a mark, 5,000 marks).

use hearth_shared::RecordKind;
use maud::{Markup, html};

/// A mark's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Home visit.
    Circle,
    /// Daily presentation.
    Square,
    /// Voice of the child.
    Diamond,
    /// Concern.
    Triangle,
    /// Developmental review.
    TriangleDown,
    /// Meeting (also a band across every lane).
    Hexagon,
    /// Escalation.
    Arrow,
    /// Neglect assessment summary.
    Star,
    /// Amendment (one whose original has not arrived).
    Cross,
}

impl Shape {
    /// Every shape, in the key's order.
    pub const ALL: [Shape; 9] = [
        Self::Circle,
        Self::Square,
        Self::Diamond,
        Self::Triangle,
        Self::TriangleDown,
        Self::Hexagon,
        Self::Arrow,
        Self::Star,
        Self::Cross,
    ];

    /// The shape of `kind`'s marks.
    pub const fn of(kind: RecordKind) -> Self {
        match kind {
            RecordKind::HomeVisit => Self::Circle,
            RecordKind::DailyPresentation => Self::Square,
            RecordKind::Voice => Self::Diamond,
            RecordKind::Concern => Self::Triangle,
            RecordKind::DevelopmentalReview => Self::TriangleDown,
            RecordKind::Meeting => Self::Hexagon,
            RecordKind::Escalation => Self::Arrow,
            RecordKind::NeglectSummary => Self::Star,
            RecordKind::Amendment | RecordKind::Revision => Self::Cross,
        }
    }

    /// The kind the key names it after (its label is the kind's).
    pub const fn kind(self) -> RecordKind {
        match self {
            Self::Circle => RecordKind::HomeVisit,
            Self::Square => RecordKind::DailyPresentation,
            Self::Diamond => RecordKind::Voice,
            Self::Triangle => RecordKind::Concern,
            Self::TriangleDown => RecordKind::DevelopmentalReview,
            Self::Hexagon => RecordKind::Meeting,
            Self::Arrow => RecordKind::Escalation,
            Self::Star => RecordKind::NeglectSummary,
            Self::Cross => RecordKind::Amendment,
        }
    }

    /// The fragment its `<use>` points at: `#tl-shape-circle`.
    pub const fn href(self) -> &'static str {
        match self {
            Self::Circle => "#tl-shape-circle",
            Self::Square => "#tl-shape-square",
            Self::Diamond => "#tl-shape-diamond",
            Self::Triangle => "#tl-shape-triangle",
            Self::TriangleDown => "#tl-shape-triangle-down",
            Self::Hexagon => "#tl-shape-hexagon",
            Self::Arrow => "#tl-shape-arrow",
            Self::Star => "#tl-shape-star",
            Self::Cross => "#tl-shape-cross",
        }
    }

    /// Its path, centred on the origin, about 13 units across.
    const fn path(self) -> &'static str {
        match self {
            Self::Circle => "M0-6A6 6 0 1 1 0 6A6 6 0 1 1 0-6Z",
            Self::Square => "M-5.5-5.5H5.5V5.5H-5.5Z",
            Self::Diamond => "M0-7L7 0L0 7L-7 0Z",
            Self::Triangle => "M0-7L6.5 5.5H-6.5Z",
            Self::TriangleDown => "M0 7L6.5-5.5H-6.5Z",
            Self::Hexagon => "M-3.5-6H3.5L7 0L3.5 6H-3.5L-7 0Z",
            Self::Arrow => "M0-7.5L6.5-0.5H2.5V6.5H-2.5V-0.5H-6.5Z",
            Self::Star => {
                "M0-7.5L2-2.6L7.1-2.3L3.1 0.9L4.4 6L0 3.2L-4.4 6L-3.1 0.9L-7.1-2.3L-2-2.6Z"
            }
            Self::Cross => {
                "M-6-3.5L-3.5-6L0-2.5L3.5-6L6-3.5L2.5 0L6 3.5L3.5 6L0 2.5L-3.5 6L-6 3.5L-2.5 0Z"
            }
        }
    }
}

/// The `<defs>` holding every shape (the `id` is the href without `#`).
pub fn defs() -> Markup {
    html! {
        defs {
            @for s in Shape::ALL {
                path id=(&s.href()[1..]) d=(s.path()) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_shape_and_the_key_names_each_once() {
        for k in RecordKind::ALL {
            let s = Shape::of(*k);
            assert!(Shape::ALL.contains(&s));
            assert_eq!(Shape::of(s.kind()), s);
        }
        let hrefs: std::collections::BTreeSet<_> = Shape::ALL.iter().map(|s| s.href()).collect();
        assert_eq!(hrefs.len(), Shape::ALL.len());
        let d = defs().into_string();
        for s in Shape::ALL {
            assert!(d.contains(&format!(r#"id="{}""#, &s.href()[1..])), "{d}");
        }
    }
}
