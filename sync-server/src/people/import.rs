//! A first load of the register from CSV: pure parsing and checking, row
//! by row ([`parse`]); `ops::import_csv` applies the rows that
//! pass.
//!
//! The header must hold exactly these columns, in any order:
//! `kind,refs,name,dob,edd,sex,household,from,related_to,relationship`
//! (a column missing, unknown or given twice refuses the whole file,
//! naming it). Each data row is a child (`kind=child`: `refs` separated
//! by `;`, `name`, `dob` or `edd`, `sex`, and optionally a `household`
//! with the date it was joined, `from`) or an adult (`kind=adult`: `name`,
//! optionally `household` and `from`, and optionally `related_to` (a
//! child's reference or person id, in the file or the register) with the
//! `relationship`). A row that breaks a rule is refused with its number
//! (1 = the first row after the header), the column and the fix; the
//! other rows are still loaded.

use hearth_shared::{ChildRef, Timestamp};

use super::check::{RegisterError, bad, check_name, check_new_person, parse_date};
use super::{NewPerson, PersonId, Relationship, Sex};

/// The columns of an import file, in the order the documentation gives.
pub const COLUMNS: [&str; 10] = [
    "kind",
    "refs",
    "name",
    "dob",
    "edd",
    "sex",
    "household",
    "from",
    "related_to",
    "relationship",
];

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows stored.
    pub imported: usize,
    /// Rows refused, by row number.
    pub refused: Vec<RowRefusal>,
}

/// A refused row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowRefusal {
    /// The data row's number: 1 for the first row after the header.
    pub row: usize,
    /// The column at fault.
    pub field: String,
    /// What is wrong, and the fix.
    pub message: String,
    /// The person this row added before a later step of it (household,
    /// relation) was refused: the row is not imported whole, but the
    /// person is in the register. Said here, not only in `message`, so
    /// that a program counting people need not read words that the file's
    /// own text can imitate.
    pub added: Option<PersonId>,
}

impl RowRefusal {
    pub(super) fn of(row: usize, field: &str, message: impl Into<String>) -> Self {
        Self {
            row,
            field: field.to_string(),
            message: message.into(),
            added: None,
        }
    }
}

/// A row that passed every check that needs no register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Its number.
    pub row: usize,
    /// The person.
    pub person: NewPerson,
    /// The household joined, and from when.
    pub household: Option<(String, Timestamp)>,
    /// An adult's child (a reference or `P12`, resolved against the
    /// register once the file's children are in it) and relationship.
    pub related: Option<(String, Relationship)>,
}

/// A file's rows: those that passed, and those refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Rows to apply.
    pub rows: Vec<ImportRow>,
    /// Rows refused.
    pub refused: Vec<RowRefusal>,
}

/// Parses and checks `csv` (a date of birth after `now` is refused).
/// `Err` only for a file that cannot be read as an import at all.
pub fn parse(csv: &str, now: Timestamp) -> Result<Parsed, RegisterError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(csv.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| bad("header", format!("cannot read the header: {e}")))?
        .clone();
    let index = columns(&header)?;
    let mut out = Parsed::default();
    for (i, record) in reader.records().enumerate() {
        let row = i + 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                out.refused.push(RowRefusal::of(
                    row,
                    "row",
                    format!(
                        "cannot be read: {e}; give every column, quoting a value that holds a comma"
                    ),
                ));
                continue;
            }
        };
        let fields = Fields(index.map(|i| record.get(i).unwrap_or("")));
        match parse_row(row, &fields, now) {
            Ok(r) => out.rows.push(r),
            Err(e) => out
                .refused
                .push(RowRefusal::of(row, e.field(), e.message())),
        }
    }
    Ok(out)
}

/// Where each of [`COLUMNS`] is in `header`, or why the file is refused.
fn columns(header: &csv::StringRecord) -> Result<[usize; 10], RegisterError> {
    let expected = COLUMNS.join(",");
    for (i, h) in header.iter().enumerate() {
        if !COLUMNS.contains(&h) {
            return Err(bad(
                "header",
                format!("{h:?} is not a column of the import; the header is {expected}"),
            ));
        }
        if header.iter().take(i).any(|earlier| earlier == h) {
            return Err(bad("header", format!("the column {h} is given twice")));
        }
    }
    let mut index = [0; 10];
    for (slot, c) in index.iter_mut().zip(COLUMNS) {
        *slot = header.iter().position(|h| h == c).ok_or_else(|| {
            bad(
                "header",
                format!("the column {c} is missing; the header is {expected} (in any order)"),
            )
        })?;
    }
    Ok(index)
}

/// A row's values, in the order of [`COLUMNS`].
struct Fields<'a>([&'a str; 10]);

impl<'a> Fields<'a> {
    /// The value of column `c` (one of [`COLUMNS`]).
    fn get(&self, c: &str) -> &'a str {
        COLUMNS
            .iter()
            .position(|x| *x == c)
            .map_or("", |i| self.0[i])
    }
}

fn optional_date(field: &'static str, s: &str) -> Result<Option<Timestamp>, RegisterError> {
    match s {
        "" => Ok(None),
        s => parse_date(field, s).map(Some),
    }
}

fn parse_row(row: usize, f: &Fields<'_>, now: Timestamp) -> Result<ImportRow, RegisterError> {
    let child = match f.get("kind") {
        "child" => true,
        "adult" => false,
        other => return Err(bad("kind", format!("{other:?} is neither child nor adult"))),
    };
    let refs = f
        .get("refs")
        .split(';')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            r.parse::<ChildRef>()
                .map_err(|problem| bad("refs", format!("{r:?}: {problem}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sex = match f.get("sex") {
        "" => None,
        s => Some(s.parse::<Sex>().map_err(|e| bad("sex", e.to_string()))?),
    };
    let person = NewPerson {
        refs,
        child,
        name: f.get("name").to_string(),
        born: optional_date("dob", f.get("dob"))?,
        expected: optional_date("edd", f.get("edd"))?,
        sex,
    };
    let person = check_new_person(person, now).map_err(|e| match e.field() {
        // The CSV's column is `refs`.
        "ref" => bad("refs", e.message()),
        _ => e,
    })?;
    let household = match (f.get("household"), f.get("from")) {
        ("", "") => None,
        ("", _) => {
            return Err(bad(
                "household",
                "a date in from needs the household's name",
            ));
        }
        (_, "") => {
            return Err(bad(
                "from",
                "give the date the household was joined (YYYY-MM-DD)",
            ));
        }
        (h, from) => Some((check_name("household", h)?, parse_date("from", from)?)),
    };
    let related = match (child, f.get("related_to"), f.get("relationship")) {
        (_, "", "") => None,
        (true, ..) => {
            return Err(bad(
                "related_to",
                "relationships are given on the adult's row; leave related_to and relationship empty for a child",
            ));
        }
        (false, "", _) => return Err(bad("related_to", "name the child (a reference or P12)")),
        (false, _, "") => {
            return Err(bad(
                "relationship",
                format!("give one of {}", Relationship::WORDS.join(", ")),
            ));
        }
        (false, to, rel) => {
            if to.parse::<PersonId>().is_err() && to.parse::<ChildRef>().is_err() {
                return Err(bad(
                    "related_to",
                    format!("{to:?} is neither a child reference nor a person id (P12)"),
                ));
            }
            let rel = rel
                .parse::<Relationship>()
                .map_err(|e| bad("relationship", e.to_string()))?;
            Some((to.to_string(), rel))
        }
    };
    Ok(ImportRow {
        row,
        person,
        household,
        related,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "kind,refs,name,dob,edd,sex,household,from,related_to,relationship";
    const NOW: Timestamp = Timestamp(1_795_000_000);

    fn file(rows: &[&str]) -> String {
        let mut s = HEADER.to_string();
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s
    }

    #[test]
    fn good_rows_parse_and_bad_ones_are_refused_by_number_and_column() {
        let csv = file(&[
            r#"child,nhs:9434765919;local:NURSERY-12:amy-b,"Brown, Amy",2024-05-01,,female,Brown,2024-05-01,,"#,
            "adult,,Dean Brown,,,,Brown,2024-05-01,nhs:9434765919,father",
            "child,nhs:9434765918,Bad Check,2024-05-01,,,,,,",
            "child,local:HV:baby,Baby,2030-01-01,,,,,,",
            "adult,,Sam,,,,,,nhs:9434765919,uncle",
            "child,local:HV:x,X,,2026-12-01,,Brown,,,",
            "person,,Who,,,,,,,",
            "child,local:HV:y,Y,,,,,,nhs:9434765919,father",
            "adult,local:HV:z,Z,,,,,,,",
        ]);
        let parsed = parse(&csv, NOW).unwrap();
        assert_eq!(parsed.rows.len(), 2);
        let amy = &parsed.rows[0];
        assert_eq!((amy.row, amy.person.name.as_str()), (1, "Brown, Amy"));
        assert_eq!(amy.person.refs.len(), 2);
        assert_eq!(amy.person.sex, Some(Sex::Female));
        assert_eq!(amy.household.as_ref().unwrap().0, "Brown");
        let dean = &parsed.rows[1];
        assert_eq!(
            dean.related,
            Some(("nhs:9434765919".to_string(), Relationship::Father))
        );
        let refused: Vec<(usize, &str)> = parsed
            .refused
            .iter()
            .map(|r| (r.row, r.field.as_str()))
            .collect();
        assert_eq!(
            refused,
            [
                (3, "refs"),
                (4, "dob"),
                (5, "relationship"),
                (6, "from"),
                (7, "kind"),
                (8, "related_to"),
                (9, "refs"),
            ]
        );
        assert!(
            parsed.refused[1]
                .message
                .contains("for an unborn child give --edd")
        );
    }

    #[test]
    fn the_header_must_hold_every_column_once_in_any_order() {
        let reordered = "name,kind,refs,dob,edd,sex,household,from,related_to,relationship\nAmy,child,nhs:9434765919,,,,,,,";
        assert_eq!(parse(reordered, NOW).unwrap().rows.len(), 1);
        let missing = "kind,refs,name,dob,edd,sex,household,from,related_to\n";
        let e = parse(missing, NOW).unwrap_err();
        assert_eq!(e.field(), "header");
        assert!(
            e.message().contains("the column relationship is missing"),
            "{e}"
        );
        let unknown = format!("{HEADER},nhs\n");
        assert!(
            parse(&unknown, NOW)
                .unwrap_err()
                .message()
                .contains("\"nhs\" is not a column")
        );
        let twice = format!("{HEADER},name\n");
        assert!(
            parse(&twice, NOW)
                .unwrap_err()
                .message()
                .contains("given twice")
        );
    }

    #[test]
    fn a_short_row_is_refused_and_the_rest_still_parse() {
        let csv = file(&[
            "child,nhs:9434765919,Amy",
            "child,nhs:9434765870,Carl,,,,,,,",
        ]);
        let parsed = parse(&csv, NOW).unwrap();
        assert_eq!(parsed.rows.len(), 1);
        assert_eq!(parsed.rows[0].row, 2);
        assert_eq!(
            (parsed.refused[0].row, parsed.refused[0].field.as_str()),
            (1, "row")
        );
    }
}
