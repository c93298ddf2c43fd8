//! The benchmark corpus: observations generated from a fixed seed with
//! realistic text lengths, as [`Body`] values parsed from their documented
//! JSON form (so every record is one the agent would accept).
//!
//! [`Generator`] is a small deterministic PRNG ([`SplitMix64`]) plus one
//! builder per record kind. The same seed gives the same corpus on every
//! machine and every run.
//!
//! ## Text-length distribution
//!
//! All text is ASCII English drawn from a safeguarding vocabulary, so bytes
//! equal characters.
//!
//! | field class | examples | length in bytes |
//! | --- | --- | --- |
//! | headline | every record | uniform 40–120 |
//! | narrative | `home_visit.narrative`, `voice.words`/`behaviour`, `concern.seen_or_said`, `meeting.decisions`, `escalation.disagreement`, `neglect_summary.evidence`, `amendment.correction` | 15 % empty, 45 % uniform 20–200, 30 % uniform 200–500, 10 % uniform 500–800 (median about 160); a field the rules require is never empty (20 bytes instead) |
//! | note | observation notes, injury descriptions, `concern_note`, `meaning`, `action`, `reason`, `outcome`, `note` | uniform 10–120 |
//! | name | `relationship`, `brought_by`, attendee names, `raised_by` | uniform 6–30 |
//!
//! Kinds are generated round-robin, so each of the nine kinds is one ninth
//! of the corpus. Lists (children, people present, observations, injuries,
//! attendees, outcomes, grades) have 1 to a few entries.

use hearth_shared::Body;
use hearth_shared::json::{Defaults, parse_body};
use serde_json::{Value, json};

/// The seed every published figure uses.
pub const SEED: u64 = 0x4845_4152_5448_0001;

/// Every kind, in wire order.
pub const KINDS: [&str; 9] = [
    "home_visit",
    "daily_presentation",
    "voice",
    "concern",
    "developmental_review",
    "meeting",
    "escalation",
    "neglect_summary",
    "amendment",
];

/// How many of a generator's first `n` records are amendments (kinds go
/// round-robin). A device's own amendment folds into the entry it
/// corrects, so a chronology of `n` such records has `n` minus this many
/// entries.
pub fn amendments_among(n: usize) -> usize {
    let every = KINDS.len();
    let at = KINDS
        .iter()
        .position(|k| *k == "amendment")
        .expect("amendment is a kind");
    (n + every - 1 - at) / every
}

/// The kinds figure 1 calls structured (target ≤ 0.4×).
pub const STRUCTURED: [&str; 3] = ["daily_presentation", "developmental_review", "meeting"];

/// SplitMix64: tiny, fast, deterministic, good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next_u64() as usize % items.len()]
    }
}

const WORDS: &[&str] = &[
    "mother",
    "said",
    "child",
    "was",
    "seen",
    "in",
    "the",
    "kitchen",
    "and",
    "appeared",
    "tired",
    "hungry",
    "nursery",
    "reported",
    "bruise",
    "on",
    "left",
    "arm",
    "explanation",
    "given",
    "fell",
    "off",
    "sofa",
    "partner",
    "present",
    "throughout",
    "answered",
    "for",
    "her",
    "home",
    "cold",
    "heating",
    "off",
    "fridge",
    "empty",
    "apart",
    "from",
    "milk",
    "bedroom",
    "mould",
    "nappy",
    "not",
    "changed",
    "overnight",
    "school",
    "attendance",
    "late",
    "three",
    "times",
    "this",
    "week",
    "referred",
    "to",
    "social",
    "care",
    "health",
    "visitor",
    "will",
    "visit",
    "again",
    "within",
    "seven",
    "days",
    "GP",
    "appointment",
    "missed",
    "speech",
    "delay",
    "noted",
    "play",
    "withdrawn",
    "when",
    "asked",
    "about",
    "weekend",
    "no",
    "food",
    "breakfast",
    "clothes",
    "dirty",
    "smelled",
    "of",
    "smoke",
    "dog",
    "loose",
    "stairs",
    "gate",
    "missing",
    "shared",
    "with",
    "designated",
    "lead",
];

/// Builds corpus bodies.
#[derive(Debug, Clone)]
pub struct Generator {
    rng: SplitMix64,
    count: usize,
    text_bytes: usize,
    text: String,
    defaults: Defaults,
    /// The device whose store the records go to, and the seq its next
    /// record gets: amendments then correct that device's own earlier
    /// records (a device may amend only its own; issue 11). Without it,
    /// they name a made-up device, which is fine for records never synced.
    own: Option<(String, u64)>,
    /// With `own`: the children of each record made so far, so that an
    /// amendment names the children of the record it corrects (an
    /// amendment naming others would move that record away from them).
    history: Vec<Vec<String>>,
    /// With `own`: the index in `history` the amendment being made
    /// corrects.
    correcting: Option<usize>,
}

/// One corpus observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Its kind's JSON name.
    pub kind: String,
    /// The body.
    pub body: Body,
    /// Bytes of free text the generator wrote into it (headline, names,
    /// notes, narratives, plus author and agency): the part of the record
    /// no encoding can shrink without compressing text.
    pub text_bytes: usize,
    /// That free text, concatenated (for the entropy estimate of figure 1).
    pub text: String,
}

/// A valid NHS number from nine random digits (modulus-11 check digit).
pub fn nhs_number(rng: &mut SplitMix64) -> String {
    loop {
        let digits: Vec<u64> = (0..9).map(|_| rng.range(0, 9)).collect();
        let sum: u64 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| d * (10 - i as u64))
            .sum();
        let check = match 11 - sum % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        let mut s: String = digits.iter().map(|d| char::from(b'0' + *d as u8)).collect();
        s.push(char::from(b'0' + check as u8));
        return format!("nhs:{s}");
    }
}

impl Generator {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: SplitMix64::new(seed),
            count: 0,
            text_bytes: 0,
            text: String::new(),
            defaults: Defaults {
                author: "hv.jones".try_into().expect("fits"),
                agency: "HV-NORTH".try_into().expect("fits"),
            },
            own: None,
            history: Vec::new(),
            correcting: None,
        }
    }

    /// A generator whose records are captured on `device` from seq
    /// `next_seq` on, so its amendments correct records it made before.
    pub fn for_device(seed: u64, device: String, next_seq: u64) -> Self {
        Self {
            own: Some((device, next_seq)),
            ..Self::new(seed)
        }
    }

    /// The record an amendment corrects: with `own`, the one chosen by
    /// `next_body` among those made before it.
    fn corrected(&mut self) -> String {
        match (&self.own, self.correcting) {
            (Some((device, first)), Some(i)) => format!("{device}-{}", first + i as u64),
            _ => format!("0badc0ffee15600d-{}", self.rng.range(1, 5000)),
        }
    }

    /// The RNG, for callers that draw their own values.
    pub fn rng(&mut self) -> &mut SplitMix64 {
        &mut self.rng
    }

    /// Text of exactly `len` bytes (or empty for 0), words from the vocabulary.
    pub fn text(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len + 16);
        let mut sentence_start = true;
        while s.len() < len {
            if !s.is_empty() {
                s.push(' ');
            }
            let w = *self.rng.pick(WORDS);
            if sentence_start {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    s.push(f.to_ascii_uppercase());
                    s.push_str(c.as_str());
                }
            } else {
                s.push_str(w);
            }
            sentence_start = self.rng.chance(10);
            if sentence_start {
                s.push('.');
            }
        }
        s.truncate(len);
        let trimmed = s.trim_end().len();
        s.truncate(trimmed);
        while s.len() < len {
            s.push('.');
        }
        self.text_bytes += s.len();
        self.text.push_str(&s);
        s
    }

    fn headline(&mut self) -> String {
        let n = self.rng.range(40, 120) as usize;
        self.text(n)
    }

    fn narrative_len(&mut self, required: bool) -> usize {
        let p = self.rng.range(0, 99);
        let n = match p {
            0..=14 => 0,
            15..=59 => self.rng.range(20, 200),
            60..=89 => self.rng.range(200, 500),
            _ => self.rng.range(500, 800),
        } as usize;
        if required && n == 0 { 20 } else { n }
    }

    fn narrative(&mut self, required: bool) -> String {
        let n = self.narrative_len(required);
        self.text(n)
    }

    fn note(&mut self) -> String {
        let n = self.rng.range(10, 120) as usize;
        self.text(n)
    }

    fn name(&mut self) -> String {
        let n = self.rng.range(6, 30) as usize;
        self.text(n)
    }

    fn occurred_at(&mut self) -> String {
        let day = self.rng.range(1, 28);
        let month = self.rng.range(1, 12);
        let hour = self.rng.range(8, 18);
        let minute = self.rng.range(0, 59);
        format!("2026-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z")
    }

    fn present(&mut self) -> Value {
        let roles = [
            "mother",
            "father",
            "male_carer_or_partner",
            "grandparent",
            "sibling",
            "other_adult",
            "unknown_adult",
        ];
        let n = self.rng.range(1, 3);
        Value::Array(
            (0..n)
                .map(|_| {
                    let role = *self.rng.pick(&roles);
                    if self.rng.chance(50) {
                        json!({"role": role, "relationship": self.name()})
                    } else {
                        json!({"role": role})
                    }
                })
                .collect(),
        )
    }

    /// The `i`-th kind's JSON, naming `children`.
    pub fn json(&mut self, kind: &str, children: &[String]) -> Value {
        let mut v = self.detail(kind);
        let obj = v.as_object_mut().expect("an object");
        obj.insert("kind".into(), json!(kind));
        obj.insert("children".into(), json!(children));
        obj.insert("occurred_at".into(), json!(self.occurred_at()));
        obj.insert("headline".into(), json!(self.headline()));
        v
    }

    fn detail(&mut self, kind: &str) -> Value {
        let domains = [
            "nutrition",
            "housing",
            "clothing",
            "hygiene",
            "health",
            "safety",
            "emotional_care",
            "developmental_care",
        ];
        match kind {
            "home_visit" => {
                let n = self.rng.range(1, 4) as usize;
                let observations: Vec<Value> = domains[..n]
                    .iter()
                    .map(|d| json!({"domain": d, "grade": self.rng.range(1, 5), "note": self.note()}))
                    .collect();
                json!({
                    "access": *self.rng.pick(&["announced", "unannounced"]),
                    "present": self.present(),
                    "child_seen": *self.rng.pick(&["awake", "asleep"]),
                    "seen_alone": self.rng.chance(50),
                    "bedroom_seen": self.rng.chance(50),
                    "observations": observations,
                    "narrative": self.narrative(false),
                })
            }
            "daily_presentation" => {
                let mut v = json!({
                    "attendance": *self.rng.pick(&["present", "late"]),
                    "arrival_time": format!("{:02}:{:02}", self.rng.range(7, 10), self.rng.range(0, 59)),
                    "brought_by": self.name(),
                    "collected_by": self.name(),
                    "hungry": self.rng.chance(30),
                    "hygiene_concern": self.rng.chance(20),
                    "clothing_concern": self.rng.chance(20),
                    "nappy_concern": self.rng.chance(20),
                });
                if self.rng.chance(50) {
                    v["concern_note"] = json!(self.note());
                }
                if self.rng.chance(30) {
                    v["injuries"] = json!([{
                        "body_region": *self.rng.pick(&["arm", "leg", "face", "back"]),
                        "description": self.note(),
                        "carer_explanation": self.note(),
                        "child_account": self.note(),
                    }]);
                }
                v
            }
            "voice" => {
                let mode = *self.rng.pick(&["words", "behaviour"]);
                json!({
                    "mode": mode,
                    mode: self.narrative(true),
                    "present": self.present(),
                    "seen_alone": self.rng.chance(50),
                    "meaning": self.note(),
                    "action": self.note(),
                })
            }
            "concern" => json!({
                "category": *self.rng.pick(&["neglect", "physical", "emotional", "domestic_abuse"]),
                "seen_or_said": self.narrative(true),
                "action": *self.rng.pick(&["referred", "shared"]),
                "action_detail": self.note(),
            }),
            "developmental_review" => {
                let outcomes: Vec<Value> = [
                    "communication",
                    "gross_motor",
                    "fine_motor",
                    "problem_solving",
                    "personal_social",
                ]
                .iter()
                .map(|d| json!({"domain": d, "outcome": *self.rng.pick(&["on_track", "monitor", "below_threshold"])}))
                .collect();
                json!({
                    "contact": *self.rng.pick(&["new_birth", "6_8_weeks", "1_year", "2_2half_years"]),
                    "was_not_brought": false,
                    "outcomes": outcomes,
                    "note": self.note(),
                })
            }
            "meeting" => {
                let n = self.rng.range(2, 6);
                let attendees: Vec<Value> = (0..n)
                    .map(|_| json!({"name": self.name(), "agency": *self.rng.pick(&["CSC-EAST", "HV-NORTH", "NURSERY-12", "GP-PARK"])}))
                    .collect();
                let mut v = json!({
                    "meeting_type": *self.rng.pick(&["strategy_discussion", "core_group", "review_conference"]),
                    "attendees": attendees,
                    "absent_agencies": ["SCHOOL-3"],
                    "decisions": self.narrative(false),
                    "minutes": "not_recorded",
                });
                if self.rng.chance(50) {
                    v["minutes"] = json!("recorded");
                    v["minutes_by"] = json!(self.name());
                }
                v
            }
            "escalation" => json!({
                "stage": self.rng.range(1, 4),
                "raised_by": self.name(),
                "raised_with": self.name(),
                "disputed": *self.rng.pick(&["threshold", "decision", "drift"]),
                "disagreement": self.narrative(true),
                "outcome": self.note(),
                "resolved": self.rng.chance(50),
            }),
            "neglect_summary" => {
                let n = self.rng.range(3, 8) as usize;
                let grades: Vec<Value> = domains[..n]
                    .iter()
                    .map(|d| json!({"area": d, "grade": self.rng.range(1, 5)}))
                    .collect();
                json!({
                    "grades": grades,
                    "visits": self.rng.range(1, 10),
                    "assessor_trained": true,
                    "evidence": self.narrative(true),
                })
            }
            "amendment" => json!({
                "corrects": self.corrected(),
                "reason": self.note(),
                "correction": self.narrative(true),
            }),
            other => panic!("unknown kind {other}"),
        }
    }

    /// The next body (kinds round-robin), naming 1–3 children drawn from
    /// `pool`, or exactly `child` when given.
    pub fn next_body(&mut self, pool: &[String], child: Option<&str>) -> Sample {
        let kind = KINDS[self.count % KINDS.len()];
        self.count += 1;
        self.text_bytes = 0;
        self.text.clear();
        let mut children: Vec<String> = match child {
            Some(c) => vec![c.to_string()],
            None => {
                let n = self.rng.range(1, 3) as usize;
                let mut v: Vec<String> = Vec::new();
                while v.len() < n.min(pool.len()) {
                    let c = self.rng.pick(pool).clone();
                    if !v.contains(&c) {
                        v.push(c);
                    }
                }
                v
            }
        };
        self.correcting = None;
        if self.own.is_some() {
            if kind == "amendment" && !self.history.is_empty() {
                let i = self.rng.range(0, self.history.len() as u64 - 1) as usize;
                children = self.history[i].clone();
                self.correcting = Some(i);
            }
            self.history.push(children.clone());
        }
        let value = self.json(kind, &children);
        let text = value.to_string();
        let body = parse_body(&text, &self.defaults)
            .unwrap_or_else(|e| panic!("corpus record does not parse: {e}\n{text}"));
        let text_bytes = self.text_bytes + body.author.as_str().len() + body.agency.as_str().len();
        let mut text = std::mem::take(&mut self.text);
        text.push_str(body.author.as_str());
        text.push_str(body.agency.as_str());
        Sample {
            kind: kind.to_string(),
            body,
            text_bytes,
            text,
        }
    }
}

/// A pool of `n` valid NHS numbers from `seed`.
pub fn child_pool(seed: u64, n: usize) -> Vec<String> {
    let mut rng = SplitMix64::new(seed ^ 0x00C0_FFEE);
    (0..n).map(|_| nhs_number(&mut rng)).collect()
}

/// `n` samples from [`SEED`].
pub fn corpus(n: usize) -> Vec<Sample> {
    let pool = child_pool(SEED, 64);
    let mut g = Generator::new(SEED);
    (0..n).map(|_| g.next_body(&pool, None)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_and_is_deterministic() {
        let a = corpus(90);
        let b = corpus(90);
        assert_eq!(a, b);
    }
}
