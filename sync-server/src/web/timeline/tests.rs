//! Tests of the timeline picture: lanes, bands, links, escaping, and a
//! 5,000-record view.

use ed25519_dalek::SigningKey;
use hearth_shared::{ChildRef, DeviceId, RecordId, RecordKind, Seq, Timestamp};

use super::*;
use crate::chronology::Flag;

fn at(y: i64, mo: u32, d: u32, h: u32, mi: u32) -> Timestamp {
    Timestamp::from_civil(y, mo, d, h, mi, 0).unwrap()
}

fn entry(seq: u64, t: Timestamp, agency: &str, kind: RecordKind, headline: &str) -> Entry {
    Entry {
        record_id: RecordId {
            device: DeviceId::from_public_key(
                SigningKey::from_bytes(&[7; 32]).verifying_key().as_bytes(),
            ),
            seq: Seq(seq),
        },
        occurred_at: t,
        agency: agency.into(),
        author: "dsl.patel".into(),
        worker: "dsl.patel".into(),
        kind,
        headline: headline.into(),
        children: vec!["nhs:9434765919".parse::<ChildRef>().unwrap()],
        flags: Vec::new(),
        amended: None,
        received_at: t,
    }
}

fn link(e: &Entry) -> String {
    format!("/records/{}?grant=g1", e.record_id)
}

fn draw(entries: &[Entry]) -> String {
    let refs: Vec<&Entry> = entries.iter().collect();
    svg(&refs, &Zone::default(), &link).into_string()
}

/// The `<svg id="timeline">` element alone (not the key's little ones).
fn picture(html: &str) -> &str {
    let start = html.find("<svg id=\"timeline\"").expect("svg#timeline");
    let end = start + html[start..].find("</svg>").expect("closed") + "</svg>".len();
    &html[start..end]
}

/// Every element in `svg` is closed, in order: an SVG element written the
/// HTML way (`<use ...>` with no end tag) would swallow what follows.
fn assert_balanced(svg: &str) {
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').expect("tag ends");
        let tag = &rest[..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name), "closing </{name}> in {svg:.400}");
        } else {
            let name = tag.split([' ', '\n']).next().unwrap();
            assert!(!tag.ends_with('/'), "self-closed <{tag}>");
            stack.push(name);
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
}

fn three_agencies() -> Vec<Entry> {
    let mut flagged = entry(
        3,
        at(2026, 3, 3, 8, 5),
        "NURSERY-12",
        RecordKind::DailyPresentation,
        "Arrived hungry",
    );
    flagged.flags = vec![Flag::LateEntry, Flag::NoAction];
    vec![
        entry(
            1,
            at(2026, 3, 2, 10, 30),
            "HV-NORTH",
            RecordKind::HomeVisit,
            "Home cold",
        ),
        entry(
            2,
            at(2026, 3, 5, 14, 0),
            "CSC",
            RecordKind::Meeting,
            "Core group",
        ),
        flagged,
        entry(
            4,
            at(2026, 3, 9, 9, 0),
            "HV-NORTH",
            RecordKind::Concern,
            "Bruise",
        ),
        entry(
            5,
            at(2026, 3, 20, 9, 0),
            "CSC",
            RecordKind::Meeting,
            "Review",
        ),
    ]
}

#[test]
fn one_labelled_lane_per_agency_in_order_with_each_mark_in_its_lane() {
    let html = draw(&three_agencies());
    let svg = picture(&html);
    assert_balanced(svg);
    assert_eq!(svg.matches(r#"<rect class="timeline__lane"#).count(), 3);
    let (csc, hv, nursery) = (
        svg.find(">CSC</text>").unwrap(),
        svg.find(">HV-NORTH</text>").unwrap(),
        svg.find(">NURSERY-12</text>").unwrap(),
    );
    assert!(csc < hv && hv < nursery, "lanes sorted by agency");
    // Lane 2 (NURSERY-12) runs from y = 94 to 138: its mark is in it.
    let mark = &svg[svg.find("Arrived hungry").unwrap()..];
    let y: f64 = mark[mark.find(" y=\"").unwrap() + 4..]
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((lane_top(2)..lane_top(3)).contains(&y), "{y}");
    assert!(svg.contains(r#"role="group""#));
    assert!(svg.contains(r#"aria-labelledby="timeline-title""#));
    assert!(svg.contains(r#"aria-describedby="timeline-desc""#));
    assert!(svg.contains(
        "<title id=\"timeline-title\">Timeline of 5 records from 3 agencies, 2026-03-02 to 2026-03-20</title>"
    ));
}

#[test]
fn meetings_are_bands_across_every_lane() {
    let html = draw(&three_agencies());
    let svg = picture(&html);
    assert_eq!(svg.matches(r#"class="timeline__band""#).count(), 2);
    let band = &svg[svg.find(r#"class="timeline__band""#).unwrap()..];
    assert!(band.contains(&format!(r#"y="{TOP}""#)), "{band:.200}");
    assert!(
        band.contains(&format!(r#"height="{}""#, num(LANE * 3.0))),
        "{band:.200}"
    );
    // No meeting, no band (the key still shows one).
    let none = draw(&three_agencies()[..1]);
    assert_eq!(picture(&none).matches("timeline__band").count(), 0);
    assert!(none.contains("a meeting"));
}

#[test]
fn each_mark_links_to_its_record_with_a_title_and_a_shape() {
    let entries = three_agencies();
    let html = draw(&entries);
    let svg = picture(&html);
    assert_eq!(svg.matches("<a class=\"timeline__mark").count(), 5);
    for e in &entries {
        assert!(
            svg.contains(&format!(r#"href="{}""#, link(e))),
            "{}",
            link(e)
        );
    }
    // Date and time in the zone, agency, kind, headline, flags in words.
    assert!(svg.contains(
        "2026-03-03 08:05 GMT, NURSERY-12, Daily presentation: Arrived hungry (flagged: late entry, no action)</title>"
    ), "{svg}");
    assert!(svg.contains("2026-03-02 10:30 GMT, HV-NORTH, Home visit: Home cold</title>"));
    // Named by its title; filled only where flagged; shaped by kind.
    assert_eq!(svg.matches(r#"?grant=g1"><title>"#).count(), 5);
    assert_eq!(svg.matches("timeline__mark--flagged").count(), 1);
    let flagged = &svg[svg.find("timeline__mark--flagged").unwrap()..];
    assert!(flagged[..flagged.find("</a>").unwrap()].contains("#tl-shape-square"));
    assert_eq!(svg.matches("#tl-shape-hexagon").count(), 2);
    // Date ticks: every third day of March 2026 in the zone.
    assert_eq!(
        svg.matches(r#"<text class="timeline__tick-label""#).count(),
        6
    );
    assert!(svg.contains(">11 Mar 2026</text>"), "{svg}");
}

#[test]
fn every_value_is_escaped() {
    let mut e = entry(
        1,
        at(2026, 3, 2, 10, 30),
        "<b>AG</b>\"",
        RecordKind::Concern,
        "<script>alert(1)</script>\"><img src=x onerror=alert(2)>",
    );
    e.flags = vec![Flag::Disputed];
    let refs = [&e];
    let href = |_: &Entry| "/records/x?grant=a\"><script>alert(3)</script>&b=1".to_string();
    let html = svg(&refs, &Zone::default(), &href).into_string();
    for raw in ["<script", "<img", "<b>"] {
        assert!(!html.contains(raw), "{raw} in {html}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x"));
    assert!(html.contains("&lt;b&gt;AG&lt;/b&gt;&quot;"));
    assert!(html.contains(
        "href=\"/records/x?grant=a&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;&amp;b=1\""
    ));
    assert_balanced(picture(&html));
}

#[test]
fn a_long_agency_name_is_cut_with_the_whole_name_in_its_title() {
    let name = "SOUTH-EAST-COMMUNITY-HEALTH-VISITING";
    let html = draw(&[entry(
        1,
        at(2026, 3, 2, 10, 30),
        name,
        RecordKind::Voice,
        "x",
    )]);
    assert!(
        html.contains(&format!("<title>{name}</title>SOUTH-EAST-COMMUNIT…</text>")),
        "{html}"
    );
}

#[test]
fn an_empty_view_says_so() {
    let html = draw(&[]);
    let svg = picture(&html);
    assert_balanced(svg);
    assert!(svg.contains("No records in this view."));
    assert!(svg.contains("Timeline: no records in this view"));
    assert!(!svg.contains("<a "));
}

#[test]
fn a_date_filter_sets_the_span() {
    let entries = three_agencies();
    let refs: Vec<&Entry> = entries.iter().collect();
    let options = Options {
        range: DateRange {
            from: Some(at(2026, 1, 1, 0, 0)),
            to: Some(at(2026, 12, 31, 23, 59)),
        },
        ..Options::default()
    };
    let html = svg_with(&refs, &Zone::default(), &link, options).into_string();
    // A year: quarterly ticks, not March's days.
    assert!(
        html.contains(">Apr 2026</text>") && !html.contains("9 Mar 2026"),
        "{html}"
    );
}

#[test]
fn five_thousand_records_draw_as_five_thousand_links_inside_the_picture() {
    let agencies = ["CSC", "HV-NORTH", "NURSERY-12", "GP-7", "POLICE"];
    let kinds = RecordKind::ALL;
    let start = at(2023, 1, 1, 9, 0).0;
    let entries: Vec<Entry> = (0..5_000u64)
        .map(|i| {
            let mut e = entry(
                i,
                Timestamp(start + i as i64 * 5 * 3600),
                agencies[i as usize % agencies.len()],
                kinds[i as usize % kinds.len()],
                "Arrived with grandmother",
            );
            if i % 7 == 0 {
                e.flags = vec![Flag::NoAction];
            }
            e
        })
        .collect();
    let html = draw(&entries);
    let svg = picture(&html);
    assert_balanced(svg);
    assert_eq!(svg.matches("<a class=\"timeline__mark").count(), 5_000);
    assert_eq!(svg.matches(r#"<rect class="timeline__lane"#).count(), 5);
    // Every mark is inside the picture's box.
    let height = TOP + LANE * 5.0 + BOTTOM;
    for u in svg.split("<use ").skip(1) {
        let attr = |name: &str| -> f64 {
            let i = u.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            u[i..].split('"').next().unwrap().parse().unwrap()
        };
        assert!((GUTTER..=WIDTH - RIGHT).contains(&attr("x")));
        assert!((TOP..=height - BOTTOM).contains(&attr("y")));
    }
    // About 300 bytes a mark: a page, not a download.
    assert!(html.len() < 5_000 * 400, "{} bytes", html.len());
}

#[test]
fn zoom_gives_the_periods_either_side_and_around() {
    use jiff::civil::date;
    let z = zoom(date(2026, 3, 1), date(2026, 3, 31)).unwrap();
    assert_eq!(z.earlier, (date(2026, 1, 29), date(2026, 2, 28)));
    assert_eq!(z.later, (date(2026, 4, 1), date(2026, 5, 1)));
    assert_eq!(z.wider, (date(2026, 1, 29), date(2026, 5, 1)));
    // Reversed bounds are read the right way round.
    assert_eq!(zoom(date(2026, 3, 31), date(2026, 3, 1)), Some(z));
    assert_eq!(
        local_date(&Zone::default(), at(2026, 6, 30, 23, 30)),
        Some(date(2026, 7, 1))
    );
}
