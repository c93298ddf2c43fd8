//! The results table: figure | value | baseline | ratio | target | pass/fail.

/// One line of the table.
#[derive(Debug, Clone)]
pub struct Row {
    /// What is measured, e.g. `2 core: encode+sign`.
    pub figure: String,
    /// The measured value, with its unit.
    pub value: String,
    /// The baseline, with its unit, or `-`.
    pub baseline: String,
    /// value / baseline (or value / limit where there is no baseline), or `-`.
    pub ratio: String,
    /// The target, e.g. `≤ 1.15×`.
    pub target: String,
    /// Pass, fail, or `None` when not measured.
    pub pass: Option<bool>,
}

impl Row {
    /// A row.
    pub fn new(
        figure: impl Into<String>,
        value: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
        target: impl Into<String>,
        pass: Option<bool>,
    ) -> Self {
        Self {
            figure: figure.into(),
            value: value.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
            target: target.into(),
            pass,
        }
    }
}

/// Renders `rows` as a Markdown table (readable as text, pasteable into
/// `docs/PERFORMANCE.md`).
pub fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| figure | value | baseline | ratio | target | pass/fail |\n| --- | --- | --- | --- | --- | --- |\n",
    );
    for r in rows {
        let verdict = match r.pass {
            Some(true) => "pass",
            Some(false) => "FAIL",
            None => "n/a",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.figure, r.value, r.baseline, r.ratio, r.target, verdict
        ));
    }
    out
}
