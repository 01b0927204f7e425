//! A telephone number as every view shows it: the words to read and copy, the `tel:` link a
//! click dials, and an extension said as text. Numbers are read with the `phonenumber` crate
//! (Google's libphonenumber metadata), never by hand.

use phonenumber::country;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The longest number (as written) that is read as a number; anything longer is shown as given.
const MAX_WRITTEN_CHARS: usize = 64;

/// A telephone number, ready to show, copy and dial.
///
/// When the number is a valid UK (or international) number, `display` is its national form
/// (`020 7946 0000`; international numbers in international form), `tel` the `tel:` URI in
/// E.164 (`tel:+442079460000`) and `extension` the extension's digits, shown as text and never
/// put in the URI. Otherwise `display` is the number as given (spaces tidied), with no link and
/// no extension: the clinician reads and copies it, and nothing dials a number the app could
/// not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct PhoneView {
    /// As shown and copied: `020 7946 0000`, or the number as given when it could not be read.
    pub display: String,
    /// `tel:+442079460000`, for a link; none when the number could not be read as a valid one.
    pub tel: Option<String>,
    /// The extension's digits (`201`), shown as text beside the number, if any.
    pub extension: Option<String>,
}

impl PhoneView {
    /// The view of a number as CP-IS or the configuration gives it; `None` when it is blank.
    pub fn given(written: &str) -> Option<PhoneView> {
        let tidied = written.split_whitespace().collect::<Vec<_>>().join(" ");
        if tidied.is_empty() {
            return None;
        }
        Some(read(&tidied).unwrap_or(PhoneView {
            display: tidied,
            tel: None,
            extension: None,
        }))
    }

    /// [`PhoneView::given`] of an optional number.
    pub fn given_optional(written: Option<&str>) -> Option<PhoneView> {
        written.and_then(PhoneView::given)
    }
}

/// A valid number's view, or `None` when the library cannot read it as a valid number.
fn read(written: &str) -> Option<PhoneView> {
    use phonenumber::Mode;
    if written.chars().count() > MAX_WRITTEN_CHARS {
        return None;
    }
    // A number written without a country code is a UK one.
    let number = phonenumber::parse(Some(country::Id::GB), written).ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    // Shown without its extension (which is said separately): format the E.164 form again.
    let plain = phonenumber::parse(None, &e164).ok()?;
    let display = if plain.code().value() == 44 {
        plain.format().mode(Mode::National).to_string()
    } else {
        plain.format().mode(Mode::International).to_string()
    };
    let extension = number
        .extension()
        .map(|extension| extension.to_string())
        .filter(|digits| !digits.is_empty());
    Some(PhoneView {
        display,
        tel: Some(format!("tel:{e164}")),
        extension,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(written: &str) -> PhoneView {
        PhoneView::given(written).expect("not blank")
    }

    fn phone(display: &str, tel: Option<&str>, extension: Option<&str>) -> PhoneView {
        PhoneView {
            display: display.to_owned(),
            tel: tel.map(str::to_owned),
            extension: extension.map(str::to_owned),
        }
    }

    /// The shapes CP-IS answers and local authorities write (the published example's numbers,
    /// Ofcom drama numbers), each read to the number a click dials.
    #[test]
    fn real_shapes_dial_the_number_shown_and_say_the_extension() {
        let cases = [
            (
                "+44 (0)20 7946 0000",
                phone("020 7946 0000", Some("tel:+442079460000"), None),
            ),
            (
                "020 7946 0000 ext 201",
                phone("020 7946 0000", Some("tel:+442079460000"), Some("201")),
            ),
            (
                "01133973581",
                phone("0113 397 3581", Some("tel:+441133973581"), None),
            ),
            (
                "07133973581",
                phone("07133 973581", Some("tel:+447133973581"), None),
            ),
            (
                "0113 397 3581 x 12",
                phone("0113 397 3581", Some("tel:+441133973581"), Some("12")),
            ),
            (
                "+44 114 496 0123",
                phone("0114 496 0123", Some("tel:+441144960123"), None),
            ),
            (
                "0114 496 0123 extension 4",
                phone("0114 496 0123", Some("tel:+441144960123"), Some("4")),
            ),
            (
                "+1 212 555 0100",
                phone("+1 212-555-0100", Some("tel:+12125550100"), None),
            ),
        ];
        for (written, expected) in cases {
            assert_eq!(view(written), expected, "{written}");
        }
    }

    #[test]
    fn a_number_that_cannot_be_read_is_shown_as_given_with_no_link() {
        for (written, shown) in [
            ("garbage", "garbage"),
            ("  ring  the duty desk ", "ring the duty desk"),
            ("999", "999"),
            // Ofcom's drama ranges are never in use: no link dials them.
            ("01632 960001", "01632 960001"),
            ("07700 900123", "07700 900123"),
            (
                "0113 397 3581 / 0113 397 3582",
                "0113 397 3581 / 0113 397 3582",
            ),
            ("01632 960001 ext 5", "01632 960001 ext 5"),
            ("+44 (0)20 7946 00", "+44 (0)20 7946 00"),
        ] {
            assert_eq!(view(written), phone(shown, None, None), "{written:?}");
        }
        let long = "0".repeat(MAX_WRITTEN_CHARS + 1);
        assert_eq!(view(&long), phone(&long, None, None));
    }

    #[test]
    fn a_blank_number_is_not_given() {
        assert_eq!(PhoneView::given(""), None);
        assert_eq!(PhoneView::given(" \t "), None);
        assert_eq!(PhoneView::given_optional(None), None);
        assert_eq!(
            PhoneView::given_optional(Some("01133973581")).map(|view| view.display),
            Some("0113 397 3581".to_owned())
        );
    }

    #[test]
    fn the_extension_is_never_in_the_link() {
        let json = serde_json::to_value(view("020 7946 0000 ext 201")).expect("json");
        assert_eq!(
            json,
            serde_json::json!({
                "display": "020 7946 0000",
                "tel": "tel:+442079460000",
                "extension": "201",
            })
        );
    }
}
