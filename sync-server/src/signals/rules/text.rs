//! Each rule's words: its title and the review's learning point, and the
//! dates, numbers and lists its explanation is written with.

use hearth_shared::Timestamp;

use crate::signals::Rule;

/// What the signal is, in plain words.
pub fn title(rule: Rule) -> &'static str {
    match rule {
        Rule::ConcernsAccumulating => "Concerns are building up across agencies",
        Rule::DevelopmentalDelayRepeated => "Developmental delay noted again",
        Rule::ChildNotSeen => "The child has not been seen",
        Rule::VoiceNotActedOn => "The child's words were recorded and not acted on",
        Rule::MeetingsWithoutMinutes => "Meetings without minutes",
        Rule::AgencyAbsentFromMeetings => "An agency is missing from meetings",
        Rule::HarmfulSexualBehaviourWithoutMeeting => {
            "Harmful sexual behaviour without a strategy discussion or conference"
        }
        Rule::EscalationUnresolved => "An escalation is unresolved",
        Rule::WasNotBroughtRepeated => "The child was not brought, again",
        Rule::NeglectWithoutAssessment => "Neglect seen repeatedly with no neglect assessment",
        Rule::MaleCarerUnseen => "A father or male carer has not been seen",
    }
}

/// Why it matters: the review's learning point.
pub fn learning_point(rule: Rule) -> &'static str {
    match rule {
        Rule::ConcernsAccumulating => {
            "LP3, LP5: neglect builds up across agencies; no single agency sees the whole picture, so the pieces must be put together."
        }
        Rule::DevelopmentalDelayRepeated => {
            "LP5: delay was seen again and again and not acted on; repeated delay can be a sign of neglect."
        }
        Rule::ChildNotSeen => {
            "Being seen and heard: a child who is not seen cannot be protected; ask why and see the child."
        }
        Rule::VoiceNotActedOn => {
            "LP6: the child's words and behaviour were recorded and nothing was done with them."
        }
        Rule::MeetingsWithoutMinutes => {
            "LP9: without minutes, decisions and actions are lost and nobody can be held to them."
        }
        Rule::AgencyAbsentFromMeetings => {
            "LP2, LP9: an agency missing from meetings leaves its knowledge out of the plan."
        }
        Rule::HarmfulSexualBehaviourWithoutMeeting => {
            "LP7: harmful sexual behaviour was not assessed by the agencies together."
        }
        Rule::EscalationUnresolved => {
            "LP8: escalation was not used to its end; an unresolved disagreement lets a case drift."
        }
        Rule::WasNotBroughtRepeated => {
            "A child not brought to appointments is a child whose health needs are not met: ask why."
        }
        Rule::NeglectWithoutAssessment => {
            "LP5: neglect tools were not used; a structured neglect assessment shows what single observations cannot."
        }
        Rule::MaleCarerUnseen => {
            "LP4: fathers and male carers were not assessed; know who is in the household and see them."
        }
    }
}

/// A date in words, in UTC: "2 March 2025".
pub fn date(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.strftime("%-d %B %Y").to_string())
        .unwrap_or_else(|_| Timestamp(t).to_string())
}

/// "on 2 March 2025", or "between 2 March 2025 and 20 May 2025".
pub fn span(first: i64, last: i64) -> String {
    let (a, b) = (date(first), date(last));
    if a == b {
        format!("on {a}")
    } else {
        format!("between {a} and {b}")
    }
}

/// "1 concern entry" / "3 concern entries": `n` and the right noun.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_counts_in_words() {
        // 2025-03-02T10:00:00Z and 2025-05-20T23:59:59Z.
        assert_eq!(date(1_740_909_600), "2 March 2025");
        assert_eq!(span(1_740_909_600, 1_740_909_600 + 60), "on 2 March 2025");
        assert_eq!(
            span(1_740_909_600, 1_747_785_599),
            "between 2 March 2025 and 20 May 2025"
        );
        assert_eq!(count(1, "visit", "visits"), "1 visit");
        assert_eq!(count(2, "visit", "visits"), "2 visits");
    }
}
