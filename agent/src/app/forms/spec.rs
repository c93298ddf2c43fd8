//! Form specs: for every record kind, its fields with label, hint,
//! required mark and kind of input, generated from `hearth-shared`.
//!
//! Nothing here re-lists a word or a limit. Choices are the core
//! vocabulary's `WORDS`; a text field's byte limit is read from the core
//! struct field's own `Text<N>` type by [`cap`] (and a list's length from
//! its `List<T, N>` by [`items`]), so a change in the core changes the
//! form. The tests at the bottom submit every choice and every limit
//! through the core's `parse_body` to prove it.
//!
//! A field's `name` is its path in the record's JSON form without the
//! kind (`narrative`, `observations[].grade`), which is also how the
//! core's errors name it; see [`super::answers`] for the form names.

use hearth_shared::bounded::{List, Text};
use hearth_shared::child::{Issuer, LocalId};
use hearth_shared::kinds::concern::{ConcernAction, ConcernCategory};
use hearth_shared::kinds::daily_presentation::{Attendance, BodyRegion, Injury};
use hearth_shared::kinds::developmental_review::{DevDomain, DevOutcome, ReviewContact};
use hearth_shared::kinds::escalation::Disputed;
use hearth_shared::kinds::home_visit::{ChildSeen, DomainObservation, VisitAccess};
use hearth_shared::kinds::meeting::{Attendee, MeetingType, Minutes};
use hearth_shared::kinds::voice::VoiceMode;
use hearth_shared::kinds::{
    CareDomain, Concern, DailyPresentation, DevelopmentalReview, Escalation, HomeVisit, Meeting,
    NeglectSummary, PersonPresent, PersonRole, VoiceOfChild,
};
use hearth_shared::record::Headline;
use hearth_shared::{AgencyCode, Body, RecordKind};

/// The byte capacity of a core text field, read from its type: `N` of
/// the `Text<N>` that `field` points at.
pub fn cap<T, const N: usize>(_field: fn(&T) -> &Text<N>) -> usize {
    N
}

/// The most entries a core list field holds: `N` of its `List<U, N>`.
pub fn items<T, U, const N: usize>(_field: fn(&T) -> &List<U, N>) -> usize {
    N
}

/// The record kinds that have a form of their own (the corrections have
/// the amend and retract forms instead).
pub const FORM_KINDS: &[RecordKind] = &[
    RecordKind::HomeVisit,
    RecordKind::DailyPresentation,
    RecordKind::Voice,
    RecordKind::Concern,
    RecordKind::DevelopmentalReview,
    RecordKind::Meeting,
    RecordKind::Escalation,
    RecordKind::NeglectSummary,
];

/// What a field is entered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// One line of text, at most `max` bytes.
    Line {
        /// The byte limit (the core's capacity).
        max: usize,
    },
    /// Several lines of text, at most `max` bytes.
    Area {
        /// The byte limit (the core's capacity).
        max: usize,
        /// A large box (the child's own words).
        large: bool,
    },
    /// One of a vocabulary's words, as large radios.
    Choice(&'static [&'static str]),
    /// A whole number from `min` to `max` as radios (a grade, a stage).
    Scale {
        /// The smallest.
        min: u8,
        /// The largest.
        max: u8,
    },
    /// A whole number typed in.
    Number,
    /// Yes, no, or not recorded (`Option<bool>`).
    YesNo,
    /// A checkbox (`bool`, absent is false).
    Tick,
    /// A clock time, `08:05`, local.
    Time,
    /// A date and a time, local, with the zone shown, defaulting to now.
    When,
    /// A list of one-line texts, each at most `max` bytes.
    List {
        /// How many.
        items: usize,
        /// Each one's byte limit.
        max: usize,
    },
    /// A repeatable group of fields (an observation, an injury).
    Group {
        /// How many.
        items: usize,
        /// The fields of one entry; their names are relative.
        fields: Vec<FieldSpec>,
    },
}

/// One field of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Its path in the JSON form, without the kind (for a group's field,
    /// relative to the group).
    pub name: &'static str,
    /// The question, in plain English.
    pub label: &'static str,
    /// Help under the label; may be empty.
    pub hint: &'static str,
    /// Whether it must be answered (marked in the form).
    pub required: bool,
    /// How it is entered.
    pub input: Input,
}

impl FieldSpec {
    fn new(name: &'static str, label: &'static str, hint: &'static str, input: Input) -> Self {
        Self {
            name,
            label,
            hint,
            required: false,
            input,
        }
    }

    fn required(mut self) -> Self {
        self.required = true;
        self
    }
}

fn line(name: &'static str, label: &'static str, hint: &'static str, max: usize) -> FieldSpec {
    FieldSpec::new(name, label, hint, Input::Line { max })
}

fn area(name: &'static str, label: &'static str, hint: &'static str, max: usize) -> FieldSpec {
    FieldSpec::new(name, label, hint, Input::Area { max, large: false })
}

fn choice(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    words: &'static [&'static str],
) -> FieldSpec {
    FieldSpec::new(name, label, hint, Input::Choice(words)).required()
}

fn group(
    name: &'static str,
    label: &'static str,
    hint: &'static str,
    items: usize,
    fields: Vec<FieldSpec>,
) -> FieldSpec {
    FieldSpec::new(name, label, hint, Input::Group { items, fields })
}

fn tick(name: &'static str, label: &'static str, hint: &'static str) -> FieldSpec {
    FieldSpec::new(name, label, hint, Input::Tick)
}

fn yes_no(name: &'static str, label: &'static str) -> FieldSpec {
    FieldSpec::new(
        name,
        label,
        "Leave unanswered if not recorded.",
        Input::YesNo,
    )
}

/// The form of one record kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormSpec {
    /// The kind.
    pub kind: RecordKind,
    /// The common fields (children, when, headline) then the kind's own.
    pub fields: Vec<FieldSpec>,
}

impl FormSpec {
    /// The form of `kind`; `None` for a correction (amendment, revision).
    pub fn of(kind: RecordKind) -> Option<Self> {
        let own = match kind {
            RecordKind::HomeVisit => home_visit(),
            RecordKind::DailyPresentation => daily_presentation(),
            RecordKind::Voice => voice(),
            RecordKind::Concern => concern(),
            RecordKind::DevelopmentalReview => developmental_review(),
            RecordKind::Meeting => meeting(),
            RecordKind::Escalation => escalation(),
            RecordKind::NeglectSummary => neglect_summary(),
            RecordKind::Amendment | RecordKind::Revision => return None,
        };
        let mut fields = common();
        fields.extend(own);
        Some(Self { kind, fields })
    }

    /// The field at `name` (top level, or `group[].field`).
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        find(&self.fields, name)
    }
}

/// The field named `name` among `fields`: `group[].field` looks inside a
/// group.
pub fn find<'a>(fields: &'a [FieldSpec], name: &str) -> Option<&'a FieldSpec> {
    match name.split_once("[].") {
        Some((g, rest)) => match &fields.iter().find(|f| f.name == g)?.input {
            Input::Group { fields, .. } => find(fields, rest),
            _ => None,
        },
        None => fields.iter().find(|f| f.name == name),
    }
}

/// The longest child reference the core accepts: `local:` + issuer + `:`
/// + id (an NHS reference, `nhs:` + 10 digits, is shorter).
pub const fn child_ref_max() -> usize {
    "local:".len() + Issuer::CAPACITY + 1 + LocalId::CAPACITY
}

fn common() -> Vec<FieldSpec> {
    vec![
        FieldSpec::new(
            "children",
            "Children",
            "Each child's NHS number as nhs:1234567890, or a local reference as local:ISSUER:ID.",
            Input::List {
                items: items(|b: &Body| &b.children),
                max: child_ref_max(),
            },
        )
        .required(),
        FieldSpec::new(
            "occurred_at",
            "When did it happen?",
            "Local time on this tablet; it starts at now.",
            Input::When,
        )
        .required(),
        line(
            "headline",
            "Headline",
            "A short factual line for the chronology.",
            cap(|b: &Body| -> &Headline { &b.headline }),
        )
        .required(),
    ]
}

fn present<T>(list: fn(&T) -> &List<PersonPresent, 8>) -> FieldSpec {
    group(
        "present",
        "Who was present",
        "Add each person, by their role.",
        items(list),
        vec![
            choice("role", "Role", "", PersonRole::WORDS),
            line(
                "relationship",
                "Relationship to the child",
                "In your words, such as \"mother's partner, lives in the home\".",
                cap(|p: &PersonPresent| &p.relationship),
            ),
        ],
    )
}

fn home_visit() -> Vec<FieldSpec> {
    vec![
        choice(
            "access",
            "Access",
            "Did the family know you were coming, and did you get in?",
            VisitAccess::WORDS,
        ),
        present(|v: &HomeVisit| &v.present),
        choice("child_seen", "Was the child seen?", "", ChildSeen::WORDS),
        line(
            "not_seen_reason",
            "Why was the child not seen?",
            "Needed when the child was not seen.",
            cap(|v: &HomeVisit| &v.not_seen_reason),
        ),
        yes_no("seen_alone", "Was the child seen alone?"),
        yes_no("bedroom_seen", "Was the child's bedroom seen?"),
        group(
            "observations",
            "Observations",
            "One per care domain; grade 1 is good, 5 is severe concern.",
            items(|v: &HomeVisit| &v.observations),
            vec![
                choice("domain", "Care domain", "", CareDomain::WORDS),
                FieldSpec::new("grade", "Grade", "", Input::Scale { min: 1, max: 5 }).required(),
                area(
                    "note",
                    "What you saw",
                    "",
                    cap(|o: &DomainObservation| &o.note),
                ),
            ],
        ),
        area(
            "narrative",
            "Narrative",
            "What happened at the visit.",
            cap(|v: &HomeVisit| &v.narrative),
        ),
    ]
}

/// The fields of one injury: where (filled from the body map), and
/// what it looks like, what the carer said, what the child said.
pub fn injury_fields() -> Vec<FieldSpec> {
    vec![
        choice(
            "body_region",
            "Where on the body",
            "Choose on the body map, or from the list.",
            BodyRegion::WORDS,
        ),
        area(
            "description",
            "What it looks like",
            "Size, colour, shape.",
            cap(|i: &Injury| &i.description),
        )
        .required(),
        area(
            "carer_explanation",
            "What the carer said happened",
            "",
            cap(|i: &Injury| &i.carer_explanation),
        ),
        area(
            "child_account",
            "What the child said",
            "In the child's own words.",
            cap(|i: &Injury| &i.child_account),
        ),
    ]
}

fn daily_presentation() -> Vec<FieldSpec> {
    let d = |f: fn(&DailyPresentation) -> &Text<48>| cap(f);
    vec![
        choice("attendance", "Attendance", "", Attendance::WORDS),
        line(
            "absence_reason",
            "Reason given for the absence",
            "Needed when absent with a reason.",
            cap(|p: &DailyPresentation| &p.absence_reason),
        ),
        FieldSpec::new(
            "arrival_time",
            "Arrival time",
            "Like 08:05. Leave empty if absent.",
            Input::Time,
        ),
        line(
            "brought_by",
            "Who brought the child",
            "",
            d(|p| &p.brought_by),
        ),
        line(
            "collected_by",
            "Who collected the child",
            "",
            d(|p| &p.collected_by),
        ),
        tick("hungry", "Arrived hungry", ""),
        tick("hygiene_concern", "Hygiene concern", ""),
        tick(
            "clothing_concern",
            "Clothing concern",
            "Dirty, unsuitable for the weather, too small.",
        ),
        tick(
            "nappy_concern",
            "Nappy concern",
            "Not changed, soiled, sore.",
        ),
        area(
            "concern_note",
            "More about any concern",
            "",
            cap(|p: &DailyPresentation| &p.concern_note),
        ),
        group(
            "injuries",
            "Injuries",
            "Each injury noticed at arrival.",
            items(|p: &DailyPresentation| &p.injuries),
            injury_fields(),
        ),
    ]
}

fn voice() -> Vec<FieldSpec> {
    let mut words = area(
        "words",
        "The child's own words",
        "Write exactly what the child said, verbatim. Needed when the mode is words.",
        cap(|v: &VoiceOfChild| &v.words),
    );
    words.input = Input::Area {
        max: cap(|v: &VoiceOfChild| &v.words),
        large: true,
    };
    vec![
        choice(
            "mode",
            "How did the child communicate?",
            "",
            VoiceMode::WORDS,
        ),
        words,
        area(
            "behaviour",
            "What the child did",
            "As you saw it. Needed for behaviour, play and drawing.",
            cap(|v: &VoiceOfChild| &v.behaviour),
        ),
        area(
            "action",
            "What was done about it",
            "Leave empty if nothing was done: that is recorded too.",
            cap(|v: &VoiceOfChild| &v.action),
        ),
        area(
            "meaning",
            "What it may be telling us",
            "",
            cap(|v: &VoiceOfChild| &v.meaning),
        ),
        present(|v: &VoiceOfChild| &v.present),
        yes_no("seen_alone", "Was the child seen alone?"),
    ]
}

fn concern() -> Vec<FieldSpec> {
    vec![
        choice("category", "Category", "", ConcernCategory::WORDS),
        area(
            "seen_or_said",
            "What was seen or said",
            "",
            cap(|c: &Concern| &c.seen_or_said),
        )
        .required(),
        choice("action", "What was done", "", ConcernAction::WORDS),
        line(
            "action_detail",
            "To whom, with whom, or why nothing",
            "To whom it was referred, with whom it was shared, or why nothing was done.",
            cap(|c: &Concern| &c.action_detail),
        )
        .required(),
    ]
}

fn developmental_review() -> Vec<FieldSpec> {
    vec![
        choice("contact", "Which review", "", ReviewContact::WORDS),
        tick(
            "was_not_brought",
            "The child was not brought",
            "Then leave the outcomes empty.",
        ),
        group(
            "outcomes",
            "Outcomes",
            "One per domain reviewed.",
            items(|r: &DevelopmentalReview| &r.outcomes),
            vec![
                choice("domain", "Domain", "", DevDomain::WORDS),
                choice("outcome", "Outcome", "", DevOutcome::WORDS),
            ],
        ),
        area("note", "Notes", "", cap(|r: &DevelopmentalReview| &r.note)),
    ]
}

fn meeting() -> Vec<FieldSpec> {
    vec![
        choice("meeting_type", "Type of meeting", "", MeetingType::WORDS),
        group(
            "attendees",
            "Who attended",
            "",
            items(|m: &Meeting| &m.attendees),
            vec![
                line(
                    "name",
                    "Name or role",
                    "Such as \"Social worker\".",
                    cap(|a: &Attendee| &a.name),
                )
                .required(),
                line(
                    "agency",
                    "Agency code",
                    "Leave empty for family members.",
                    cap(|a: &Attendee| -> &AgencyCode { &a.agency }),
                ),
            ],
        )
        .required(),
        FieldSpec::new(
            "absent_agencies",
            "Agencies invited but absent",
            "Their agency codes.",
            Input::List {
                items: items(|m: &Meeting| &m.absent_agencies),
                max: AgencyCode::CAPACITY,
            },
        ),
        area(
            "decisions",
            "Decisions",
            "",
            cap(|m: &Meeting| &m.decisions),
        ),
        choice("minutes", "Were minutes recorded?", "", Minutes::WORDS),
        line(
            "minutes_by",
            "Who recorded the minutes",
            "Needed when minutes were recorded.",
            cap(|m: &Meeting| &m.minutes_by),
        ),
    ]
}

fn escalation() -> Vec<FieldSpec> {
    let who = |f: fn(&Escalation) -> &Text<48>| cap(f);
    vec![
        FieldSpec::new(
            "stage",
            "Stage of the procedure",
            "",
            Input::Scale { min: 1, max: 4 },
        )
        .required(),
        line("raised_by", "Raised by", "", who(|e| &e.raised_by)).required(),
        line("raised_with", "Raised with", "", who(|e| &e.raised_with)).required(),
        choice("disputed", "What is disputed", "", Disputed::WORDS),
        area(
            "disagreement",
            "The disagreement",
            "",
            cap(|e: &Escalation| &e.disagreement),
        )
        .required(),
        area(
            "outcome",
            "The outcome so far",
            "",
            cap(|e: &Escalation| &e.outcome),
        ),
        tick("resolved", "It is resolved", ""),
    ]
}

fn neglect_summary() -> Vec<FieldSpec> {
    vec![
        group(
            "grades",
            "Grades by area",
            "One per area; grade 1 is best, 5 is worst.",
            items(|n: &NeglectSummary| &n.grades),
            vec![
                choice("area", "Area", "", CareDomain::WORDS),
                FieldSpec::new("grade", "Grade", "", Input::Scale { min: 1, max: 5 }).required(),
            ],
        )
        .required(),
        FieldSpec::new(
            "visits",
            "How many visits the assessment drew on",
            "From 1 to 100.",
            Input::Number,
        )
        .required(),
        tick(
            "assessor_trained",
            "The assessor is trained in the tool",
            "",
        ),
        area(
            "evidence",
            "Evidence",
            "",
            cap(|n: &NeglectSummary| &n.evidence),
        ),
    ]
}

/// `spec` with a correction's reason first (the amend form).
pub fn with_reason(mut spec: FormSpec) -> FormSpec {
    let reason = FieldSpec {
        name: "reason",
        label: "Why is the record being corrected?",
        hint: "This is kept with the correction, and the original stays in the chronology.",
        required: true,
        input: Input::Line {
            max: cap(|r: &hearth_shared::kinds::Revision| &r.reason),
        },
    };
    spec.fields.insert(0, reason);
    spec
}

/// A vocabulary word as a person reads it: `male_carer_or_partner` is
/// "Male carer or partner", `6_8_weeks` is "6–8 weeks".
pub fn word_label(word: &str) -> String {
    let special = match word {
        "6_8_weeks" => Some("6–8 weeks"),
        "2_2half_years" => Some("2–2½ years"),
        _ => None,
    };
    if let Some(s) = special {
        return s.to_string();
    }
    let spaced = word.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "spec_tests.rs"]
pub(crate) mod tests;
