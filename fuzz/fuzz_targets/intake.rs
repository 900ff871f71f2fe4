//! What a customer types into the issue form: any answers, against each way a site may ask and
//! a custom field of each kind.
#![no_main]

use domain::intake::{self, Answers, CustomField, FieldKind, Questions};
use domain::site::FieldMode;
use libfuzzer_sys::fuzz_target;

const MODES: [FieldMode; 3] = [FieldMode::Hidden, FieldMode::Optional, FieldMode::Required];

fn field(key: &str, kind: FieldKind, required: bool) -> CustomField {
    CustomField {
        key: key.into(),
        kind,
        required,
        labels: Default::default(),
        options: vec!["Laptop".into(), "Phone".into()],
    }
}

fuzz_target!(|input: (Vec<(String, String)>, u8)| {
    let (pairs, mode) = input;
    let answers: Answers = pairs.into_iter().collect();
    let questions = Questions {
        company: MODES[usize::from(mode) % 3],
        company_code: MODES[usize::from(mode / 3) % 3],
        description: MODES[usize::from(mode / 9) % 3],
    };
    let fields = [
        field("device", FieldKind::Select, mode % 2 == 0),
        field("serial", FieldKind::Text, false),
        field("count", FieldKind::Number, false),
        field("urgent", FieldKind::Checkbox, false),
    ];
    for key in answers.keys() {
        let _ = intake::parse_field_key(key);
        let _ = FieldKind::parse(key);
    }
    match intake::parse(&answers, questions, &fields) {
        Ok(parsed) => assert!(!parsed.name.as_str().is_empty()),
        Err(errors) => assert!(!errors.is_empty(), "a refusal names its fields"),
    }
});
