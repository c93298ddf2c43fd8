//! `/admin/people`: an administrator adds a child or an adult to the
//! register, through [`ops::add_person`] (the checks and messages of
//! `person add`). A child needs at least one reference; the date of birth
//! or, unborn, the expected date; sex is optional.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;

use super::problem;
use crate::backend::Backend;
use crate::clock::Clock;
use crate::http::AppState;
use crate::people::ops;
use crate::people::{NewPerson, Sex};
use crate::store::Store;
use crate::web::admin::{Answer, Problem, admin_page, answer, confirmation, status_of, text_field};
use crate::web::layout::csrf_field;
use crate::web::{Admin, Viewer};

/// The add-person form.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AddForm {
    /// `child` or `adult`.
    #[serde(default)]
    pub kind: String,
    /// References, separated by spaces, commas or `;`.
    #[serde(default)]
    pub refs: String,
    /// The name.
    #[serde(default)]
    pub name: String,
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default)]
    pub dob: String,
    /// Expected date of delivery, `YYYY-MM-DD`.
    #[serde(default)]
    pub edd: String,
    /// `female`, `male`, `indeterminate` or empty.
    #[serde(default)]
    pub sex: String,
}

/// `GET /admin/people`.
pub async fn page<S: Backend>(Admin(viewer): Admin, State(state): State<AppState<S>>) -> Response {
    answer(state, move |_| {
        Ok((
            axum::http::StatusCode::OK,
            render(&viewer, &AddForm::default(), &[], None),
        ))
    })
    .await
}

/// `POST /admin/people`.
pub async fn add<S: Backend>(
    Admin(viewer): Admin,
    State(state): State<AppState<S>>,
    Form(form): Form<AddForm>,
) -> Response {
    answer(state, move |st| {
        add_person(st.store(), st.clock.as_ref(), &viewer, form)
    })
    .await
}

/// The form as a new person, or the problems with it.
fn new_person(form: &AddForm) -> Result<NewPerson, Vec<Problem>> {
    let mut problems: Vec<Problem> = Vec::new();
    let child = form.kind != "adult";
    let mut refs = Vec::new();
    for r in form
        .refs
        .split([';', ',', ' '])
        .filter(|r| !r.trim().is_empty())
    {
        match r.trim().parse() {
            Ok(r) => refs.push(r),
            Err(p) => problems.push((
                "refs".into(),
                format!("refs: the reference {p}; give nhs:<10 digits> or local:<issuer>:<id>"),
            )),
        }
    }
    let mut date = |field: &'static str, id: &str, value: &str| {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        ops::parse_date(field, value)
            .map_err(|e| problems.push((id.into(), e.to_string())))
            .ok()
    };
    let born = date("dob", "dob", &form.dob);
    let expected = date("edd", "edd", &form.edd);
    let sex = match form.sex.trim() {
        "" => None,
        s => match s.parse::<Sex>() {
            Ok(s) => Some(s),
            Err(_) => {
                problems.push((
                    "sex".into(),
                    format!("sex: must be one of {}", Sex::WORDS.join(", ")),
                ));
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(NewPerson {
        refs,
        child,
        name: form.name.clone(),
        born,
        expected,
        sex,
    })
}

/// Adds the form's person as `viewer`, answering with the form again:
/// what was added (a link to the person), or the problems.
pub fn add_person<S: Store>(
    store: &S,
    clock: &dyn Clock,
    viewer: &Viewer,
    form: AddForm,
) -> Answer {
    let fields = [
        ("refs", "refs"),
        ("ref", "refs"),
        ("name", "name"),
        ("dob", "dob"),
        ("edd", "edd"),
        ("sex", "sex"),
    ];
    let problems = match new_person(&form) {
        Err(problems) => problems,
        Ok(p) => {
            let name = p.name.clone();
            match ops::add_person(store, clock, &viewer.name, p) {
                Ok(id) => {
                    let done = (id.to_string(), name);
                    return Ok((
                        axum::http::StatusCode::OK,
                        render(viewer, &AddForm::default(), &[], Some(&done)),
                    ));
                }
                Err(e) => vec![problem(e, &fields, "name")?],
            }
        }
    };
    Ok((status_of(&problems), render(viewer, &form, &problems, None)))
}

/// The add-person page.
pub fn render(
    viewer: &Viewer,
    f: &AddForm,
    problems: &[Problem],
    done: Option<&(String, String)>,
) -> Markup {
    let adult = f.kind == "adult";
    let content = html! {
        @if let Some((id, name)) = done {
            (confirmation("Added", html! { p { "Added " a href={ "/people/" (id) } { (id) " " (name) } "." } }))
        }
        h1 class="heading-l" { "Add a person" }
        form method="post" action="/admin/people" novalidate {
            (csrf_field(viewer))
            div class="form-group" {
                fieldset class="fieldset" {
                    legend class="fieldset__legend" { "A child or an adult?" }
                    div class="radios" {
                        div class="radios__item" {
                            input class="radios__input" type="radio" name="kind" id="kind-child" value="child" checked[!adult];
                            label class="radios__label" for="kind-child" { "A child" }
                        }
                        div class="radios__item" {
                            input class="radios__input" type="radio" name="kind" id="kind-adult" value="adult" checked[adult];
                            label class="radios__label" for="kind-adult" { "An adult (a parent or carer)" }
                        }
                    }
                }
            }
            (text_field("name", "Name", "As a worker would say it, 1 to 100 characters", &f.name, problems))
            (text_field("refs", "References (a child)", "NHS number as nhs:<10 digits>, or local:<issuer>:<id>; several separated by spaces", &f.refs, problems))
            (text_field("dob", "Date of birth (a child)", "YYYY-MM-DD", &f.dob, problems))
            (text_field("edd", "Expected date of delivery (an unborn child)", "YYYY-MM-DD; leave the date of birth empty", &f.edd, problems))
            (text_field("sex", "Sex (optional)", "female, male or indeterminate", &f.sex, problems))
            button class="button" type="submit" { "Add" }
        }
    };
    admin_page(viewer, "Add a person", problems, content)
}
