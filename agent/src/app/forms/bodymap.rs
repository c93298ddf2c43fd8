//! The body map for injuries: an inline SVG outline, front and back, whose
//! regions are links named by the core's body region words
//! (`BodyRegion::WORDS`; every word but `other` has a place on the
//! outline, `other` is a link below it).
//!
//! A region link is `?region=<word>#f-injuries`: with scripts off it
//! reloads the form with a new injury at that region; the script
//! (`assets/forms/forms.js`) instead fills the region of the injury being
//! entered, without leaving the page. Each region's first shape has the
//! word as its id (`arm`), later ones `arm-2`; every one has
//! `data-region`.

use hearth_shared::kinds::daily_presentation::BodyRegion;
use maud::{Markup, html};

use super::spec::word_label;

/// A shape on the outline: which view (0 front, 1 back), the region, and
/// an ellipse (cx, cy, rx, ry) in a 200 × 420 view box per view.
const SHAPES: &[(u8, BodyRegion, [u16; 4])] = &[
    (0, BodyRegion::Head, [100, 40, 30, 34]),
    (0, BodyRegion::Face, [100, 48, 18, 20]),
    (0, BodyRegion::Ears, [68, 46, 6, 10]),
    (0, BodyRegion::Ears, [132, 46, 6, 10]),
    (0, BodyRegion::Neck, [100, 86, 12, 10]),
    (0, BodyRegion::Chest, [100, 125, 40, 28]),
    (0, BodyRegion::Abdomen, [100, 180, 36, 26]),
    (0, BodyRegion::Genital, [100, 222, 16, 12]),
    (0, BodyRegion::Arm, [45, 150, 12, 50]),
    (0, BodyRegion::Arm, [155, 150, 12, 50]),
    (0, BodyRegion::Hand, [38, 218, 12, 16]),
    (0, BodyRegion::Hand, [162, 218, 12, 16]),
    (0, BodyRegion::Leg, [80, 300, 18, 62]),
    (0, BodyRegion::Leg, [120, 300, 18, 62]),
    (0, BodyRegion::Foot, [78, 390, 16, 12]),
    (0, BodyRegion::Foot, [122, 390, 16, 12]),
    (1, BodyRegion::Head, [100, 40, 30, 34]),
    (1, BodyRegion::Neck, [100, 86, 12, 10]),
    (1, BodyRegion::Back, [100, 150, 40, 52]),
    (1, BodyRegion::Buttocks, [100, 222, 36, 18]),
    (1, BodyRegion::Arm, [45, 150, 12, 50]),
    (1, BodyRegion::Arm, [155, 150, 12, 50]),
    (1, BodyRegion::Leg, [80, 300, 18, 62]),
    (1, BodyRegion::Leg, [120, 300, 18, 62]),
];

/// The id of the `n`th shape (from 1) of `region`.
fn shape_id(region: BodyRegion, n: usize) -> String {
    if n == 1 {
        region.as_str().to_string()
    } else {
        format!("{}-{n}", region.as_str())
    }
}

fn view(side: u8, title: &str) -> Markup {
    html! {
        figure class="body-map__view" {
            svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 420" role="group" aria-label=(title) class="body-map__svg" {
                @for (i, (v, region, [cx, cy, rx, ry])) in SHAPES.iter().enumerate() {
                    @if *v == side {
                        @let n = SHAPES[..=i].iter().filter(|s| s.1 == *region).count();
                        a href={ "?region=" (region.as_str()) "#f-injuries" } data-region=(region.as_str())
                            id=(shape_id(*region, n)) aria-label={ (word_label(region.as_str())) " (" (title) ")" } {
                            title { (word_label(region.as_str())) }
                            ellipse class="body-map__region" cx=(cx) cy=(cy) rx=(rx) ry=(ry) fill="#ffffff" stroke="#0b0c0c" stroke-width="2" {}
                        }
                    }
                }
            }
            figcaption { (title) }
        }
    }
}

/// The map: front and back, then "somewhere else".
pub fn map() -> Markup {
    html! {
        div class="body-map" {
            p class="hint" { "Tap where the injury is. It fills \"Where on the body\" below." }
            div class="body-map__views" { (view(0, "Front")) (view(1, "Back")) }
            p { a href="?region=other#f-injuries" data-region="other" id="other" { "Somewhere else (say where in the description)" } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_body_region_is_on_the_map_once_by_id() {
        let html = map().into_string();
        for w in BodyRegion::WORDS {
            assert!(html.contains(&format!(r#"id="{w}""#)), "{w} has no region");
            assert!(
                html.contains(&format!("?region={w}#f-injuries")),
                "{w} has no link"
            );
        }
        assert_eq!(html.matches(r#"id="arm""#).count(), 1);
        assert!(html.contains(r#"id="arm-4""#));
    }
}
